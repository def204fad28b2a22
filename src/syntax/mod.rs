//! Text to AST. Only `parser.rs` sees pest; everything after works on `ast`.

pub mod ast;
mod parser;
pub mod print;

pub use parser::parse;
