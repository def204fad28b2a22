// Every field has one entry per sample.
data gdp {
    x: f32[N, 2] = csv("../../examples/data/macro/macrodata.csv", columns: ["realgdp", "realcons"], rows: 0..100)
    y: f32[N]    = csv("../../examples/data/macro/macrodata.csv", column: "realinv", rows: 0..90)
    //~^ data::count: field `y` has 90 samples but `x` has 100
}
