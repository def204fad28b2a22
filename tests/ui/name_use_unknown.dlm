// `use` checks that the module and each name exist.
use std.nn.{dense, dense3}
//~^ name::unknown: unknown name in `std.nn` `dense3`
use std.layers.{dense}
//~^ name::unknown: unknown module `layers`
