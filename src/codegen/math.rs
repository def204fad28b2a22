//! Transcendental functions as CLIF polynomials, for `f32` or `f32x4`.
//!
//! CLIF has no exp/log/tanh, and a libm call per element would cost more
//! than the arithmetic, so each is a range reduction plus a minimax
//! polynomial (the Cephes single-precision coefficients), written once for
//! both widths: [`Lanes`] hides whether a constant is a scalar or a splat
//! and how a comparison selects. Accuracy against the reference interpreter
//! is tested in `tests/codegen_math.rs`.

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, Endianness, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;

/// Scalar (`f32`) or 4-lane (`f32x4`) arithmetic helpers.
#[derive(Clone, Copy)]
pub struct Lanes {
    pub f: Type,
    pub i: Type,
}

impl Lanes {
    pub fn new(width: u32) -> Lanes {
        if width == 4 {
            Lanes {
                f: types::F32X4,
                i: types::I32X4,
            }
        } else {
            Lanes {
                f: types::F32,
                i: types::I32,
            }
        }
    }

    pub fn vector(self) -> bool {
        self.f.is_vector()
    }

    pub fn fc(self, b: &mut FunctionBuilder, c: f32) -> Value {
        let s = b.ins().f32const(c);
        if self.vector() {
            b.ins().splat(self.f, s)
        } else {
            s
        }
    }

    pub fn ic(self, b: &mut FunctionBuilder, c: i32) -> Value {
        let s = b.ins().iconst(types::I32, i64::from(c));
        if self.vector() {
            b.ins().splat(self.i, s)
        } else {
            s
        }
    }

    fn flags(self) -> MemFlagsData {
        MemFlagsData::new().with_endianness(Endianness::Little)
    }

    pub fn f_to_bits(self, b: &mut FunctionBuilder, x: Value) -> Value {
        b.ins().bitcast(self.i, self.flags(), x)
    }

    pub fn bits_to_f(self, b: &mut FunctionBuilder, x: Value) -> Value {
        b.ins().bitcast(self.f, self.flags(), x)
    }

    /// `x cc y ? t : e` on floats.
    pub fn fsel(
        self,
        b: &mut FunctionBuilder,
        cc: FloatCC,
        x: Value,
        y: Value,
        t: Value,
        e: Value,
    ) -> Value {
        let m = b.ins().fcmp(cc, x, y);
        self.pick(b, m, t, e)
    }

    /// Picks `t` where the comparison result `m` holds, else `e`; `t` and
    /// `e` may be float or int.
    pub fn pick(self, b: &mut FunctionBuilder, m: Value, t: Value, e: Value) -> Value {
        if !self.vector() {
            return b.ins().select(m, t, e);
        }
        let ty = b.func.dfg.value_type(t);
        let m = if ty == b.func.dfg.value_type(m) {
            m
        } else {
            b.ins().bitcast(ty, self.flags(), m)
        };
        b.ins().bitselect(m, t, e)
    }

    /// `1.0` where the comparison result `m` holds, else `0.0`.
    pub fn mask01(self, b: &mut FunctionBuilder, m: Value) -> Value {
        let (one, zero) = (self.fc(b, 1.0), self.fc(b, 0.0));
        self.pick(b, m, one, zero)
    }

    fn poly(self, b: &mut FunctionBuilder, x: Value, coefs: &[f32]) -> Value {
        let mut acc = self.fc(b, coefs[0]);
        for &c in &coefs[1..] {
            let c = self.fc(b, c);
            acc = b.ins().fma(acc, x, c);
        }
        acc
    }

    /// `x^y`: small constant exponents by multiplication, otherwise
    /// `e^(y ln|x|)` with the sign and special cases of `powf`.
    pub fn pow(self, b: &mut FunctionBuilder, x: Value, y: Value, y_const: Option<f32>) -> Value {
        let l = self;
        match y_const {
            Some(1.0) => return x,
            Some(2.0) => return b.ins().fmul(x, x),
            Some(3.0) => {
                let x2 = b.ins().fmul(x, x);
                return b.ins().fmul(x2, x);
            }
            _ => {}
        }
        let ax = b.ins().fabs(x);
        let lg = l.log(b, ax);
        let t = b.ins().fmul(y, lg);
        let r = l.exp(b, t);
        let fy = b.ins().floor(y);
        let is_int = b.ins().fcmp(FloatCC::Equal, fy, y);
        let half = l.fc(b, 0.5);
        let hy = b.ins().fmul(y, half);
        let fhy = b.ins().floor(hy);
        let even = b.ins().fcmp(FloatCC::Equal, fhy, hy);
        let neg_r = b.ins().fneg(r);
        let odd_r = l.pick(b, even, r, neg_r);
        let nan = l.fc(b, f32::NAN);
        let neg_val = l.pick(b, is_int, odd_r, nan);
        let zero = l.fc(b, 0.0);
        let r = l.fsel(b, FloatCC::LessThan, x, zero, neg_val, r);
        let one = l.fc(b, 1.0);
        l.fsel(b, FloatCC::Equal, y, zero, one, r)
    }

    /// `e^x`: `x = n ln2 + r`, `|r| <= ln2 / 2`, `e^r` by a degree-7
    /// polynomial, `2^n` built in the exponent bits.
    pub fn exp(self, b: &mut FunctionBuilder, x: Value) -> Value {
        let (hi, lo) = (self.fc(b, 88.72), self.fc(b, -87.33));
        let xc = self.fsel(b, FloatCC::GreaterThan, x, hi, hi, x);
        let xc = self.fsel(b, FloatCC::LessThan, xc, lo, lo, xc);
        // n = round(x log2 e) by adding 1.5 * 2^23, whose ulp is 1: the sum
        // then holds n in its low mantissa bits, so 2^n is built from those
        // bits without a float-to-int conversion (slow as vectors in
        // Cranelift's x86 lowering) or a floor.
        let log2e = self.fc(b, std::f32::consts::LOG2_E);
        let magic = self.fc(b, 12_582_912.0);
        let t = b.ins().fma(xc, log2e, magic);
        let n = b.ins().fsub(t, magic);
        let (c1, c2) = (self.fc(b, -0.693_359_4), self.fc(b, 2.121_944_4e-4));
        let r = b.ins().fma(n, c1, xc);
        let r = b.ins().fma(n, c2, r);
        let p = self.poly(
            b,
            r,
            &[
                1.987_569_1e-4,
                1.398_2e-3,
                8.333_452e-3,
                4.166_579_6e-2,
                1.666_666_5e-1,
                0.5,
            ],
        );
        let r2 = b.ins().fmul(r, r);
        let one = self.fc(b, 1.0);
        let r1 = b.ins().fadd(r, one);
        let e = b.ins().fma(p, r2, r1);
        let ni = self.f_to_bits(b, t);
        let bias = self.ic(b, 127);
        let ni = b.ins().iadd(ni, bias);
        let bits = b.ins().ishl_imm_u(ni, 23);
        let scale = self.bits_to_f(b, bits);
        let y = b.ins().fmul(e, scale);
        let (inf, zero) = (self.fc(b, f32::INFINITY), self.fc(b, 0.0));
        let y = self.fsel(b, FloatCC::GreaterThan, x, hi, inf, y);
        self.fsel(b, FloatCC::LessThan, x, lo, zero, y)
    }

    /// `ln x`: `x = m 2^e` with `m` in `[√½, √2)`, `ln(m)` by a degree-9
    /// polynomial in `m - 1`.
    pub fn log(self, b: &mut FunctionBuilder, x: Value) -> Value {
        let bits = self.f_to_bits(b, x);
        let e = b.ins().ushr_imm_u(bits, 23);
        let ff = self.ic(b, 0xff);
        let e = b.ins().band(e, ff);
        let bias = self.ic(b, 126);
        let e = b.ins().isub(e, bias);
        let mant = self.ic(b, 0x007f_ffff);
        let m = b.ins().band(bits, mant);
        let half_bits = self.ic(b, 0x3f00_0000);
        let m = b.ins().bor(m, half_bits);
        let m = self.bits_to_f(b, m);
        let ef = b.ins().fcvt_from_sint(self.f, e);
        let sqrt_half = self.fc(b, std::f32::consts::FRAC_1_SQRT_2);
        let one = self.fc(b, 1.0);
        // m < √½: m = 2m - 1 and e - 1; else m - 1 and e.
        let m2 = b.ins().fadd(m, m);
        let small_m = b.ins().fsub(m2, one);
        let big_m = b.ins().fsub(m, one);
        let e_minus = b.ins().fsub(ef, one);
        let lt = b.ins().fcmp(FloatCC::LessThan, m, sqrt_half);
        let ef = self.pick(b, lt, e_minus, ef);
        let m = self.pick(b, lt, small_m, big_m);
        let z = b.ins().fmul(m, m);
        let p = self.poly(
            b,
            m,
            &[
                7.037_683_6e-2,
                -1.151_461e-1,
                1.167_699_9e-1,
                -1.242_014_1e-1,
                1.424_932_3e-1,
                -1.666_805_8e-1,
                2.000_071_5e-1,
                -2.499_999_4e-1,
                3.333_333e-1,
            ],
        );
        let y = b.ins().fmul(p, m);
        let y = b.ins().fmul(y, z);
        let c1 = self.fc(b, -2.121_944_4e-4);
        let y = b.ins().fma(ef, c1, y);
        let mhalf = self.fc(b, -0.5);
        let y = b.ins().fma(z, mhalf, y);
        let r = b.ins().fadd(m, y);
        let c2 = self.fc(b, 0.693_359_4);
        let r = b.ins().fma(ef, c2, r);
        self.log_specials(b, x, r)
    }

    /// `ln 0 = -inf`, `ln x = NaN` for `x < 0`, `ln inf = inf`, NaN stays.
    fn log_specials(self, b: &mut FunctionBuilder, x: Value, r: Value) -> Value {
        let zero = self.fc(b, 0.0);
        let ninf = self.fc(b, f32::NEG_INFINITY);
        let inf = self.fc(b, f32::INFINITY);
        let nan = self.fc(b, f32::NAN);
        let r = self.fsel(b, FloatCC::Equal, x, inf, inf, r);
        let r = self.fsel(b, FloatCC::Equal, x, zero, ninf, r);
        let r = self.fsel(b, FloatCC::LessThan, x, zero, nan, r);
        self.fsel(b, FloatCC::Unordered, x, x, x, r)
    }

    /// `tanh x`: an odd polynomial below `|x| = 0.625`, else
    /// `1 - 2 / (e^{2|x|} + 1)` with the sign of `x`.
    pub fn tanh(self, b: &mut FunctionBuilder, x: Value) -> Value {
        let ax = b.ins().fabs(x);
        let two = self.fc(b, 2.0);
        let one = self.fc(b, 1.0);
        let e = b.ins().fmul(ax, two);
        let e = self.exp(b, e);
        let d = b.ins().fadd(e, one);
        let q = b.ins().fdiv(two, d);
        let big = b.ins().fsub(one, q);
        let big = self.copysign(b, big, x);
        let z = b.ins().fmul(x, x);
        let p = self.poly(
            b,
            z,
            &[
                -5.704_988_7e-3,
                2.063_909e-2,
                -5.373_971_6e-2,
                1.333_144_2e-1,
                -3.333_328e-1,
            ],
        );
        let p = b.ins().fmul(p, z);
        let small = b.ins().fma(p, x, x);
        let lim = self.fc(b, 0.625);
        self.fsel(b, FloatCC::LessThan, ax, lim, small, big)
    }

    /// `|m|` with the sign of `s` (CLIF's `fcopysign` has no x86 vector
    /// lowering).
    fn copysign(self, b: &mut FunctionBuilder, m: Value, s: Value) -> Value {
        let mb = self.f_to_bits(b, m);
        let sb = self.f_to_bits(b, s);
        let abs = self.ic(b, i32::MAX);
        let sign = self.ic(b, i32::MIN);
        let mb = b.ins().band(mb, abs);
        let sb = b.ins().band(sb, sign);
        let r = b.ins().bor(mb, sb);
        self.bits_to_f(b, r)
    }

    /// `1 / (1 + e^-x)`, the reference formula.
    pub fn sigmoid(self, b: &mut FunctionBuilder, x: Value) -> Value {
        let nx = b.ins().fneg(x);
        let e = self.exp(b, nx);
        let one = self.fc(b, 1.0);
        let d = b.ins().fadd(one, e);
        b.ins().fdiv(one, d)
    }

    /// `sin x` (or `cos x` when `cos`): reduction by multiples of π/4 in
    /// three parts, then the sine or cosine polynomial of the octant.
    pub fn sin_cos(self, b: &mut FunctionBuilder, x: Value, cos: bool) -> Value {
        let ax = b.ins().fabs(x);
        let fopi = self.fc(b, std::f32::consts::FRAC_2_PI * 2.0);
        let y = b.ins().fmul(ax, fopi);
        let j = b.ins().fcvt_to_sint_sat(self.i, y);
        let one_i = self.ic(b, 1);
        let j = b.ins().iadd(j, one_i);
        let not_one = self.ic(b, !1);
        let j = b.ins().band(j, not_one);
        let yf = b.ins().fcvt_from_sint(self.f, j);
        let mut r = ax;
        for c in [-0.785_156_25_f32, -2.418_756_5e-4, -3.774_895e-8] {
            let c = self.fc(b, c);
            r = b.ins().fma(yf, c, r);
        }
        let z = b.ins().fmul(r, r);
        let sp = self.poly(b, z, &[-1.951_529_6e-4, 8.332_161e-3, -1.666_665_5e-1]);
        let sp = b.ins().fmul(sp, z);
        let sinp = b.ins().fma(sp, r, r);
        let cp = self.poly(b, z, &[2.443_315_7e-5, -1.388_731_6e-3, 4.166_664_6e-2]);
        let cp = b.ins().fmul(cp, z);
        let cp = b.ins().fmul(cp, z);
        let mhalf = self.fc(b, -0.5);
        let cp = b.ins().fma(z, mhalf, cp);
        let one = self.fc(b, 1.0);
        let cosp = b.ins().fadd(cp, one);
        // For cos, shift the octant by 2 (cos x = sin(x + π/2)).
        let j = if cos {
            let two = self.ic(b, 2);
            b.ins().iadd(j, two)
        } else {
            j
        };
        let two = self.ic(b, 2);
        let use_cos = b.ins().band(j, two);
        let zero_i = self.ic(b, 0);
        let m = b.ins().icmp(
            cranelift_codegen::ir::condcodes::IntCC::NotEqual,
            use_cos,
            zero_i,
        );
        let v = self.pick(b, m, cosp, sinp);
        let four = self.ic(b, 4);
        let neg = b.ins().band(j, four);
        let neg = b.ins().ishl_imm_u(neg, 29);
        let sign_x = if cos {
            self.ic(b, 0)
        } else {
            let xb = self.f_to_bits(b, x);
            let sign = self.ic(b, i32::MIN);
            b.ins().band(xb, sign)
        };
        let flip = b.ins().bxor(neg, sign_x);
        let vb = self.f_to_bits(b, v);
        let vb = b.ins().bxor(vb, flip);
        self.bits_to_f(b, vb)
    }
}
