//! Compiled steps run with subnormal floats flushed to zero (x86-64 MXCSR
//! FTZ and DAZ), as TensorFlow and XLA run theirs.
//!
//! Training makes subnormals as a matter of course: Adam's first moment
//! of a weight whose gradient is rarely non-zero (a Fashion-MNIST pixel
//! that is almost always 0) decays by 0.9 a step into the subnormal range
//! and stays there for about 160 steps on its way to zero, and every
//! arithmetic operation on a subnormal costs the x86 core a microcode
//! assist of a hundred cycles or more. Measured: the MLP b32 step with and
//! without the flags, 148k against 196k samples/s (the Adam kernel is most
//! of the difference). The cost is that values below 1.2e-38 become zero,
//! which no model here can tell from rounding.
//!
//! The flags are the calling thread's, so [`Flushed`] sets them for the
//! span of one `Compiled::run` and restores the caller's; the team's
//! workers, which run nothing but compiled work, set them once.

/// MXCSR bit 15 (flush to zero) and bit 6 (denormals are zero).
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = 0x8040;

/// Sets the flags while alive; restores the previous MXCSR on drop.
pub(super) struct Flushed {
    #[cfg(target_arch = "x86_64")]
    saved: u32,
}

impl Flushed {
    pub(super) fn new() -> Flushed {
        #[cfg(target_arch = "x86_64")]
        {
            let saved = csr();
            set_csr(saved | FTZ_DAZ);
            Flushed { saved }
        }
        #[cfg(not(target_arch = "x86_64"))]
        Flushed {}
    }
}

impl Drop for Flushed {
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        set_csr(self.saved);
    }
}

/// Sets the flags for the rest of this thread's life (the team's workers).
pub(super) fn flush_forever() {
    std::mem::forget(Flushed::new());
}

#[cfg(target_arch = "x86_64")]
fn csr() -> u32 {
    let mut v = 0u32;
    // SAFETY: `stmxcsr` stores the 4-byte MXCSR at the address given.
    unsafe {
        std::arch::asm!("stmxcsr [{p}]", p = in(reg) &mut v, options(nostack, preserves_flags));
    }
    v
}

#[cfg(target_arch = "x86_64")]
fn set_csr(v: u32) {
    // SAFETY: `ldmxcsr` loads MXCSR from the address given; callers only
    // change the FTZ and DAZ bits of a value read with `stmxcsr` (rounding
    // mode and exception masks stay as they were).
    unsafe {
        std::arch::asm!("ldmxcsr [{p}]", p = in(reg) &v, options(nostack, preserves_flags));
    }
}
