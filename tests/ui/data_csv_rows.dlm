// Rows past the end of the file.
data gdp {
    x: f32[N] = csv("../../examples/data/macro/macrodata.csv", column: "realgdp", rows: 0..5000)
    //~^ data::rows: rows 0..5000 asked for, but the file has 203 data rows
}
