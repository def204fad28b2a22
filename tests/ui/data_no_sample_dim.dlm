// A field's first dimension is the sample count.
data gdp {
    x: f32 = csv("../../examples/data/macro/macrodata.csv", column: "realgdp")
    //~^ data::type: field `x` needs the sample count as its first dimension
}
