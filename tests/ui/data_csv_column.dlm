// A CSV column name is checked against the file's header.
data gdp {
    g: f32[N] = csv("../../examples/data/macro/macrodata.csv", column: "realgpd")
    //~^ data::column: the file has no column `realgpd`
}
