// Keras habit: `epochs: 10` inside a train block.
model M(x: f32[B, 4]) -> f32[B, 1] { x |> dense(1) }
data d { x: f32[N, 4] = csv("t.csv", columns: ["a", "b", "c", "d"])  y: f32[N, 1] = csv("t.csv", columns: ["e"]) }
train M on d {
    epochs: 10
    //~^ syntax::unexpected: expected
}
