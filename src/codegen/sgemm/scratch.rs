//! Per-thread packing space: one 64-byte-aligned float buffer that grows
//! to the largest request seen on the thread and is reused afterwards (the
//! blocked product always asks for its largest blocks), so steady-state
//! products allocate nothing.

use std::cell::RefCell;

thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Floats of slack so the start can be rounded up to 64 bytes.
const ALIGN: usize = 16;

/// Calls `f` with `len` writable floats (contents unspecified).
///
/// Not reentrant: `f` must not call `with` on the same thread (the
/// micro-kernels never do).
pub fn with<R>(len: usize, f: impl FnOnce(*mut f32) -> R) -> R {
    SCRATCH.with(|s| {
        let mut v = s.borrow_mut();
        if v.len() < len + ALIGN {
            *v = vec![0.0; len + ALIGN];
        }
        let p = v.as_mut_ptr();
        // Alignment only helps speed (the kernels load unaligned), so an
        // offset `align_offset` could not compute is clamped.
        let off = p.align_offset(64).min(ALIGN - 1);
        // SAFETY: `off < 16` and the buffer has `len + 16` floats.
        let p = unsafe { p.add(off) };
        f(p)
    })
}
