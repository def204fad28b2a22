// `csv` needs a column selection.
data gdp {
    x: f32[N] = csv("../../examples/data/macro/macrodata.csv")
    //~^ data::source: `csv` needs `column` or `columns`
}
