//! Exact conversions between decimal text and doubles, for [`crate::json`]: the double nearest to
//! a JSON number (as `JSON.parse` reads it) and the digits ECMAScript's `Number::toString` prints.
//!
//! Both are done here, with a small big-integer type, rather than with `str::parse::<f64>` and
//! `{:e}`: those bring the standard library's float tables and formatting machinery (about 36 KB
//! of a 200 KB verifier wasm, 24 KB gzipped). The tests check both directions against the
//! standard library.
//!
//! Correctly rounded throughout: no step approximates. The common cases (up to 15 significant
//! digits with a power of ten up to 22; integers below 2^53) take exact fast paths.

use std::cmp::Ordering;

/// A non-negative integer: little-endian 32-bit limbs, no zero limb on top (zero is empty).
#[derive(Clone)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    /// 2^bits.
    fn pow2(bits: u64) -> Big {
        let mut b = Big::from_u64(1);
        b.shl(bits);
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// `self = self * m + a`.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let t = u64::from(*limb) * u64::from(m) + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn mul_pow10(&mut self, mut n: u64) {
        while n >= 9 {
            self.mul_add(1_000_000_000, 0);
            n -= 9;
        }
        self.mul_add(10u32.pow(n as u32), 0);
    }

    fn shl(&mut self, bits: u64) {
        if self.is_zero() {
            return;
        }
        let b = (bits % 32) as u32;
        if b != 0 {
            let mut carry = 0;
            for limb in &mut self.0 {
                let v = *limb;
                *limb = (v << b) | carry;
                carry = v >> (32 - b);
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        let limbs = (bits / 32) as usize;
        if limbs != 0 {
            let mut shifted = vec![0; limbs];
            shifted.extend_from_slice(&self.0);
            self.0 = shifted;
        }
    }

    fn bit_len(&self) -> i64 {
        self.0.last().map_or(0, |top| self.0.len() as i64 * 32 - i64::from(top.leading_zeros()))
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// `self -= other`; `other` must not be larger.
    fn sub(&mut self, other: &Big) {
        let mut borrow = false;
        let mut rhs = other.0.iter();
        for limb in &mut self.0 {
            let (v, b1) = limb.overflowing_sub(rhs.next().copied().unwrap_or(0));
            let (v, b2) = v.overflowing_sub(u32::from(borrow));
            *limb = v;
            borrow = b1 || b2;
        }
        self.trim();
    }

    fn add(&self, other: &Big) -> Big {
        let (mut out, short) = if self.0.len() >= other.0.len() {
            (self.clone(), other)
        } else {
            (other.clone(), self)
        };
        let mut carry = 0u64;
        let mut rhs = short.0.iter();
        for limb in &mut out.0 {
            let t = u64::from(*limb) + u64::from(rhs.next().copied().unwrap_or(0)) + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            out.0.push(carry as u32);
        }
        out
    }
}

/// Significant digits kept when reading a number. A decimal halfway between two doubles has at
/// most 768 significant digits, so digits past this many only matter as "some were non-zero".
const MAX_DIGITS: usize = 800;

/// The double nearest to a JSON number text `-?digits(.digits)?([eE][+-]?digits)?`, ties to
/// even, as `JSON.parse` reads it; ±∞ when the value is beyond the largest double. `None` when
/// `text` has no digit before an exponent or a character outside that alphabet (the JSON parser
/// checks the exact grammar before).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let (negative, mut rest) = match text.as_bytes().split_first() {
        Some((b'-', tail)) => (true, tail),
        _ => (false, text.as_bytes()),
    };
    // value = digits × 10^exp10, with `sticky` for dropped non-zero digits.
    let mut digits: Vec<u8> = Vec::new();
    let mut exp10: i64 = 0;
    let mut sticky = false;
    let mut any_digit = false;
    let mut after_point = false;
    while let Some((&b, tail)) = rest.split_first() {
        match b {
            b'0'..=b'9' => {
                any_digit = true;
                let d = b - b'0';
                if digits.is_empty() && d == 0 {
                    // A leading zero.
                    exp10 -= i64::from(after_point);
                } else if digits.len() < MAX_DIGITS {
                    digits.push(d);
                    exp10 -= i64::from(after_point);
                } else {
                    sticky |= d != 0;
                    exp10 += i64::from(!after_point);
                }
            }
            b'.' if !after_point => after_point = true,
            b'e' | b'E' => break,
            _ => return None,
        }
        rest = tail;
    }
    if !any_digit {
        return None;
    }
    if let Some((_, exp)) = rest.split_first() {
        let (negative_exp, exp) = match exp.split_first() {
            Some((b'-', tail)) => (true, tail),
            Some((b'+', tail)) => (false, tail),
            _ => (false, exp),
        };
        if exp.is_empty() {
            return None;
        }
        let mut e: i64 = 0;
        for &b in exp {
            if !b.is_ascii_digit() {
                return None;
            }
            // Saturates far beyond any double's range.
            e = (e * 10 + i64::from(b - b'0')).min(1_000_000_000);
        }
        exp10 += if negative_exp { -e } else { e };
    }
    if !sticky {
        while digits.last() == Some(&0) {
            digits.pop();
            exp10 += 1;
        }
    }
    let magnitude = if digits.is_empty() {
        0.0
    } else {
        if sticky {
            // Strictly between the kept digits and the next value up, and no halfway point
            // between doubles lies there: rounds as the full text does.
            digits.push(1);
            exp10 -= 1;
        }
        // 10^(n-1+exp10) ≤ value < 10^(n+exp10).
        let n = digits.len() as i64;
        if n + exp10 > 309 {
            f64::INFINITY
        } else if n + exp10 < -323 {
            0.0
        } else {
            nearest(&digits, exp10)
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// 10^n for n ≤ 22, exactly (every power up to 10^22 is a double).
fn exact_pow10(n: u64) -> f64 {
    let mut p = 1.0;
    for _ in 0..n {
        p *= 10.0;
    }
    p
}

/// The double nearest to `digits × 10^exp10` (`digits` non-empty, first digit non-zero, the
/// value between 10^-324 and 10^310), ties to even; ∞ past the largest double.
fn nearest(digits: &[u8], exp10: i64) -> f64 {
    if digits.len() <= 15 && (-22..=22).contains(&exp10) {
        // Both operands are exact doubles, so the one IEEE operation rounds correctly.
        let m = digits.iter().fold(0u64, |acc, d| acc * 10 + u64::from(*d)) as f64;
        let p = exact_pow10(exp10.unsigned_abs());
        return if exp10 >= 0 { m * p } else { m / p };
    }
    let mut num = Big(Vec::new());
    for d in digits {
        num.mul_add(10, u32::from(*d));
    }
    let mut den = Big::from_u64(1);
    if exp10 >= 0 {
        num.mul_pow10(exp10.unsigned_abs());
    } else {
        den.mul_pow10(exp10.unsigned_abs());
    }
    // value = num / den ∈ (2^(b-1), 2^(b+1)). Scale by 2^s so that value × 2^s ∈ [2^53, 2^54):
    // its integer part q then holds the 53 bits of a normal double and one more for rounding.
    let b = num.bit_len() - den.bit_len();
    let mut s = 53 - b;
    if s > 0 {
        num.shl(s.unsigned_abs());
    } else {
        den.shl(s.unsigned_abs());
    }
    let mut d2 = den;
    d2.shl(53);
    if num.cmp(&d2) == Ordering::Less {
        num.shl(1);
        s += 1;
    }
    // num / d2 ∈ [1, 2): restoring division, one bit of q at a time.
    let mut q: u64 = 0;
    for _ in 0..54 {
        q <<= 1;
        if num.cmp(&d2) != Ordering::Less {
            num.sub(&d2);
            q |= 1;
        }
        num.shl(1);
    }
    let mut sticky = !num.is_zero();
    // q / 2 counts units of 2^(1-s); the smallest unit a double has is 2^-1074 (subnormals).
    if s > 1075 {
        let shift = s - 1075;
        if shift >= 64 {
            sticky |= q != 0;
            q = 0;
        } else {
            sticky |= q & ((1 << shift) - 1) != 0;
            q >>= shift;
        }
        s = 1075;
    }
    let mut m = q >> 1;
    if q & 1 == 1 && (sticky || m & 1 == 1) {
        m += 1;
    }
    if m == 1 << 53 {
        m >>= 1;
        s -= 1;
    }
    if m < 1 << 52 {
        // Subnormal (or zero): s is 1075, the exponent field 0.
        return f64::from_bits(m);
    }
    // value = m × 2^(1-s) with 2^52 ≤ m < 2^53: exponent 53 - s, biased by 1023.
    let biased = 1076 - s;
    if biased >= 2047 {
        return f64::INFINITY;
    }
    f64::from_bits((biased.unsigned_abs() << 52) | (m & ((1 << 52) - 1)))
}

/// The digits ECMAScript's `Number::toString` prints for `x` (finite, > 0) and the position of
/// the decimal point: `x ≈ 0.digits × 10^point`. The fewest digits that read back as `x` (a value
/// exactly halfway to a neighbour reads back as `x` when x's significand is even) and, among
/// those, the digit string closest to `x`, the even one on a tie.
pub(crate) fn shortest_digits(x: f64) -> (String, i64) {
    if x.fract() == 0.0 && x < 9_007_199_254_740_992.0 {
        // An integer below 2^53: neighbours are at most 1 away, so no shorter digit string than
        // its own reads back as it.
        let mut digits = (x as u64).to_string();
        let point = digits.len() as i64;
        while digits.len() > 1 && digits.ends_with('0') {
            digits.pop();
        }
        return (digits, point);
    }
    // Steele & White / Burger & Dybvig free-format digit generation, in exact integers:
    // x = r / s, and the values that read back as x lie within (x − m⁻/s, x + m⁺/s).
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (f, e) = if biased == 0 { (fraction, -1074) } else { (fraction | 1 << 52, biased - 1075) };
    let inclusive = f % 2 == 0;
    // Just above a power of two the gap below is half the gap above.
    let extra = if fraction == 0 && biased > 1 { 2 } else { 1 };
    let up = e.max(0).unsigned_abs();
    let down = (-e).max(0).unsigned_abs();
    let mut r = Big::from_u64(f);
    r.shl(up + extra);
    let mut s = Big::pow2(down + extra);
    let mut m_plus = Big::pow2(up + extra - 1);
    let mut m_minus = Big::pow2(up);
    // Whether a value at `high / s` reads back as x (or lies beyond: then a shorter one does).
    let reaches = |high: &Big, s: &Big| match high.cmp(s) {
        Ordering::Greater => true,
        Ordering::Equal => inclusive,
        Ordering::Less => false,
    };
    // Estimate the decimal exponent (log10(2) ≈ 1233 / 4096), then correct it exactly so that
    // 10^(point-1) ≤ the upper bound < 10^point.
    let mut point = ((e + 64 - i64::from(f.leading_zeros())) * 1233) >> 12;
    if point >= 0 {
        s.mul_pow10(point.unsigned_abs());
    } else {
        for v in [&mut r, &mut m_plus, &mut m_minus] {
            v.mul_pow10(point.unsigned_abs());
        }
    }
    while reaches(&r.add(&m_plus), &s) {
        s.mul_add(10, 0);
        point += 1;
    }
    loop {
        let mut high = r.add(&m_plus);
        high.mul_add(10, 0);
        if reaches(&high, &s) {
            break;
        }
        for v in [&mut r, &mut m_plus, &mut m_minus] {
            v.mul_add(10, 0);
        }
        point -= 1;
    }
    let mut digits: Vec<u8> = Vec::new();
    loop {
        for v in [&mut r, &mut m_plus, &mut m_minus] {
            v.mul_add(10, 0);
        }
        let mut d = 0u8;
        while r.cmp(&s) != Ordering::Less {
            r.sub(&s);
            d += 1;
        }
        let low_ok = match r.cmp(&m_minus) {
            Ordering::Less => true,
            Ordering::Equal => inclusive,
            Ordering::Greater => false,
        };
        let high_ok = reaches(&r.add(&m_plus), &s);
        let last = match (low_ok, high_ok) {
            (false, false) => {
                digits.push(d);
                continue;
            }
            (true, false) => d,
            (false, true) => d + 1,
            (true, true) => {
                // Both are in range: the closer one, the even one on a tie.
                let twice = r.add(&r);
                match twice.cmp(&s) {
                    Ordering::Less => d,
                    Ordering::Greater => d + 1,
                    Ordering::Equal => d + d % 2,
                }
            }
        };
        digits.push(last);
        break;
    }
    // A last digit of 10 carries into the digits before it.
    while digits.last() == Some(&10) {
        digits.pop();
        match digits.last_mut() {
            Some(prev) => *prev += 1,
            None => {
                digits.push(1);
                point += 1;
            }
        }
    }
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    (digits.iter().map(|d| char::from(b'0' + d)).collect(), point)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// The standard library's reading, the reference.
    fn std_parse(s: &str) -> f64 {
        s.parse().unwrap()
    }

    fn check_parse(s: &str) {
        let ours = parse_number(s).unwrap_or_else(|| panic!("no value for {s}"));
        let theirs = std_parse(s);
        assert_eq!(ours.to_bits(), theirs.to_bits(), "{s}: ours {ours:e}, std {theirs:e}");
    }

    /// The old digit selection, on the standard library's formatting: the shortest digit count
    /// from `{:e}`, then the closest string of that many digits that reads back.
    fn reference_digits(x: f64) -> (String, i64) {
        let split = |sci: &str| -> Option<(u64, i64)> {
            let (mantissa, exp) = sci.split_once('e')?;
            let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
            let k = digits.len() as i64;
            Some((digits.parse().ok()?, exp.parse::<i64>().ok()? - (k - 1)))
        };
        let parses_to = |s: u64, e10: i64| format!("{s}e{e10}").parse::<f64>().ok();
        let shortest = split(&format!("{x:e}")).unwrap_or((0, 0));
        let k = shortest.0.to_string().len();
        let (s, e10) = split(&format!("{:.*e}", k.saturating_sub(1), x))
            .and_then(|(s, e10)| match parses_to(s, e10) {
                Some(v) if v == x => Some((s, e10)),
                Some(v) => {
                    let other = if v < x { s.checked_add(1)? } else { s.checked_sub(1)? };
                    (parses_to(other, e10) == Some(x)).then_some((other, e10))
                }
                None => None,
            })
            .unwrap_or(shortest);
        let mut digits = s.to_string();
        let mut e10 = e10;
        while digits.len() > 1 && digits.ends_with('0') {
            digits.pop();
            e10 += 1;
        }
        let point = digits.len() as i64 + e10;
        (digits, point)
    }

    fn check_digits(x: f64) {
        let ours = shortest_digits(x);
        assert_eq!(ours, reference_digits(x), "{x:e} ({:#018x})", x.to_bits());
        // And it reads back.
        let text = format!("0.{}e{}", ours.0, ours.1);
        assert_eq!(parse_number(&text).map(f64::to_bits), Some(x.to_bits()), "{text}");
    }

    #[test]
    fn parse_simple_and_edge_values() {
        for s in [
            "0",
            "-0",
            "0.0",
            "-0.0e5",
            "0e999999999999999999999",
            "1",
            "-1",
            "1.5",
            "0.1",
            "0.30000000000000004",
            "1353028900",
            "1700000000000.5",
            "253402300799",
            "9007199254740992",
            "9007199254740993",
            "9007199254740995",
            "18014398509481985",
            "123456789012345678901234567890",
            "1e21",
            "1e22",
            "1e23",
            "8.98846567431158e307",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.797693134862315807e308",
            "2.2250738585072014e-308",
            "2.2250738585072011e-308",
            "2.2250738585072012e-308",
            "4.9406564584124654e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "5e-324",
            "3e-324",
            "2e-324",
            "1e-400",
            "1e-323",
            "1E+2",
            "1e-7",
            "123.456e-2",
            "0.000001",
            "0.0000000000000000000000000000000000000001",
            "7.120236347223045e-307",
            "1e308",
            "1e309",
            "-1e309",
            "1e400",
            "1e-10000000000000000000",
            "1e10000000000000000000",
            "0.00000000000000000000000000000000000000000000000000000000000000001e65",
        ] {
            check_parse(s);
        }
        assert_eq!(parse_number("1e309"), Some(f64::INFINITY));
        assert_eq!(parse_number("-1e400"), Some(f64::NEG_INFINITY));
        assert!(parse_number("-0").unwrap().is_sign_negative());
        for bad in ["", "-", ".", "e5", "1e", "1e+", "1x", "1.2.3", "--1"] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parse_long_texts() {
        // Far more digits than are kept: the dropped ones still decide a tie.
        let half = "9007199254740993";
        check_parse(half);
        for tail_len in [0, 10, 790, 800, 2000] {
            let zeros = "0".repeat(tail_len);
            check_parse(&format!("{half}{zeros}e-{tail_len}"));
            check_parse(&format!("{half}.{zeros}1"));
            check_parse(&format!("{half}.{zeros}"));
            check_parse(&format!("9007199254740992.{}", "9".repeat(tail_len + 1)));
            check_parse(&format!("0.{zeros}{half}e{}", tail_len + 16));
        }
        check_parse(&"1".repeat(5000));
        check_parse(&format!("0.{}", "1".repeat(5000)));
        check_parse(&format!("{}e-5300", "7".repeat(5000)));
    }

    /// The exact decimal value of a double, `d.ddd…` and an exponent, from the standard
    /// library's exact formatting.
    fn exact_decimal(x: f64) -> (Vec<u8>, i64) {
        let text = format!("{x:.1100e}");
        let (mantissa, exp) = text.split_once('e').unwrap();
        let mut digits: Vec<u8> =
            mantissa.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
        while digits.len() > 1 && digits.last() == Some(&0) {
            digits.pop();
        }
        // value = 0.digits × 10^(exp + 1)
        (digits, exp.parse::<i64>().unwrap() + 1)
    }

    /// The exact decimal text halfway between two finite non-negative doubles.
    fn midpoint_text(a: f64, b: f64) -> String {
        let (da, pa) = exact_decimal(a);
        let (db, pb) = exact_decimal(b);
        // Align both as integers over 10^-(scale).
        let top = pa.max(pb);
        let len = (top - pa + da.len() as i64).max(top - pb + db.len() as i64) as usize + 1;
        let place = |d: &[u8], p: i64| {
            let mut v = vec![0u8; len];
            for (i, digit) in d.iter().enumerate() {
                v[(top - p) as usize + i + 1] = *digit;
            }
            v
        };
        let (va, vb) = (place(&da, pa), place(&db, pb));
        // sum, then halve, digit by digit (one leading slot for the carry).
        let mut sum = vec![0u8; len];
        let mut carry = 0;
        for i in (0..len).rev() {
            let t = va[i] + vb[i] + carry;
            sum[i] = t % 10;
            carry = t / 10;
        }
        assert_eq!(carry, 0);
        let mut half = Vec::with_capacity(len + 1);
        let mut rem = 0;
        for d in sum.iter().chain(std::iter::once(&0)) {
            let t = rem * 10 + d;
            half.push(t / 2);
            rem = t % 2;
        }
        assert_eq!(rem, 0);
        // half = 0.(half digits) × 10^(top + 1)
        let digits: String = half.iter().map(|d| char::from(b'0' + d)).collect();
        format!("0.{digits}e{}", top + 1)
    }

    #[test]
    fn parse_halfway_cases_tie_to_even() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut cases: Vec<u64> =
            vec![0, 1, 2, 3, (1 << 52) - 1, 1 << 52, (1 << 52) + 1, 0x7fef_ffff_ffff_fffe];
        for _ in 0..300 {
            cases.push(rng.gen_range(0..0x7fef_ffff_ffff_ffffu64));
        }
        for bits in cases {
            let a = f64::from_bits(bits);
            let b = f64::from_bits(bits + 1);
            let mid = midpoint_text(a, b);
            check_parse(&mid);
            let even = if bits % 2 == 0 { a } else { b };
            assert_eq!(parse_number(&mid), Some(even), "{mid}");
            // Just above and just below the halfway point.
            let (m, e) = mid.split_once('e').unwrap();
            check_parse(&format!("{m}000000000000000000001e{e}"));
            let below = m.trim_end_matches('0');
            let last = below.len() - 1;
            let digit = below.as_bytes()[last] - b'0';
            if digit > 0 {
                check_parse(&format!("{}{}999999999e{e}", &below[..last], digit - 1));
            }
        }
    }

    fn random_decimal_texts(seed: u64, count: usize) {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..count {
            let n = rng.gen_range(1..=25);
            let mut s = String::new();
            if rng.gen_bool(0.3) {
                s.push('-');
            }
            let point = rng.gen_range(0..=n);
            for i in 0..n {
                if i == point && i > 0 {
                    s.push('.');
                }
                s.push(char::from(b'0' + rng.gen_range(0..10)));
            }
            if rng.gen_bool(0.7) {
                s.push('e');
                s.push_str(&rng.gen_range(-345..=330).to_string());
            }
            check_parse(&s);
        }
    }

    fn printed_doubles(seed: u64, count: usize) {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..count {
            let x = f64::from_bits(rng.gen_range(0..0x7ff0_0000_0000_0000u64));
            for text in
                [format!("{x:e}"), format!("{x:.17e}"), format!("{x:.25e}"), format!("{x:.3e}")]
            {
                check_parse(&text);
            }
        }
    }

    #[test]
    fn digits_of_special_values() {
        for x in [
            1.0,
            0.1,
            0.3,
            0.1 + 0.2,
            1.5,
            123_456.789,
            1e21,
            1e22,
            1e23,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            f64::from_bits(2),
            f64::from_bits((1 << 52) - 1),
            9_007_199_254_740_992.0,
            18_014_398_509_481_984.0,
            123_456_789_012_345_680_000.0,
            f64::from_bits(0x4311_6271_4db6_7c25),
            f64::from_bits(0x42eb_16d7_de59_7044),
            f64::from_bits(0x42bf_1f4f_560b_c550),
            f64::from_bits(0x0060_0000_0000_0000),
            f64::from_bits(0x0100_0000_0000_0000),
            1e-7,
            5e-324,
        ] {
            check_digits(x);
        }
        assert_eq!(shortest_digits(1e23), ("1".to_owned(), 24));
        assert_eq!(shortest_digits(5e-324), ("5".to_owned(), -323));
        assert_eq!(shortest_digits(1_353_028_900.0), ("13530289".to_owned(), 10));
    }

    #[test]
    fn digits_of_powers_of_two_and_ten() {
        for k in -1074..1024 {
            check_digits(2f64.powi(k));
        }
        for k in -323..309 {
            let x: f64 = format!("1e{k}").parse().unwrap();
            check_digits(x);
            check_digits(f64::from_bits(x.to_bits() + 1));
            check_digits(f64::from_bits(x.to_bits() - 1));
        }
    }

    fn random_doubles(seed: u64, count: usize) {
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..count {
            let x = f64::from_bits(rng.gen_range(1..0x7ff0_0000_0000_0000u64));
            check_digits(x);
        }
        // Short decimals, and integers around 2^53.
        for _ in 0..count / 4 {
            let x: f64 = format!("{}e{}", rng.gen_range(1..100_000), rng.gen_range(-330..300))
                .parse()
                .unwrap();
            if x > 0.0 && x.is_finite() {
                check_digits(x);
            }
            check_digits(rng.gen_range(1u64..1 << 60) as f64);
        }
    }

    #[test]
    fn parse_random_decimal_texts() {
        random_decimal_texts(11, 50_000);
    }

    #[test]
    fn parse_printed_doubles() {
        printed_doubles(13, 10_000);
    }

    #[test]
    fn digits_of_random_doubles() {
        random_doubles(17, 20_000);
    }

    /// Millions of cases against the standard library; run with
    /// `cargo test --release -p mozmarket-core num::tests::many -- --ignored`.
    #[test]
    #[ignore = "minutes; run in release"]
    fn many_random_cases_against_std() {
        for seed in 100..120 {
            random_decimal_texts(seed, 500_000);
            printed_doubles(seed, 100_000);
            random_doubles(seed, 200_000);
        }
    }
}
