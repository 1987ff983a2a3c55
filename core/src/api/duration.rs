//! Go `time.Duration` text form: the wire format of every duration field in the CRDs.

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A signed duration in nanoseconds, read and written the way Go's `time.Duration` is.
///
/// Zero is written as `0s`, never omitted: the reference serializer always sends duration
/// structs (spec 50 §0.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(pub i64);

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {why}")]
pub struct DurationError {
    input: String,
    why: &'static str,
}

const NANOS_PER_UNIT: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

impl GoDuration {
    /// A whole number of seconds.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1_000_000_000))
    }

    /// Whole seconds, rounded toward zero.
    pub const fn as_secs(self) -> i64 {
        self.0 / 1_000_000_000
    }

    /// Whether this is the zero duration.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Parses Go duration syntax: an optional sign, then one or more decimal numbers each
    /// followed by a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), e.g. `1h30m`, `1.5s`, `-2m`.
    /// A bare `0` is accepted, as in Go.
    pub fn parse(input: &str) -> Result<Self, DurationError> {
        let err = |why| DurationError { input: input.to_owned(), why };
        let (negative, mut rest) = match input.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, input.strip_prefix('+').unwrap_or(input)),
        };
        if rest == "0" {
            return Ok(Self(0));
        }
        if rest.is_empty() {
            return Err(err("empty"));
        }
        let mut total: u128 = 0;
        while !rest.is_empty() {
            let int_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            let (int_part, after_int) = rest.split_at(int_len);
            let (frac_part, after_num) = match after_int.strip_prefix('.') {
                Some(f) => {
                    let len = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
                    f.split_at(len)
                }
                None => ("", after_int),
            };
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(err("expected a number"));
            }
            let unit_len = after_num.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after_num.len());
            let (unit, next) = after_num.split_at(unit_len);
            if unit.is_empty() {
                return Err(err("missing unit"));
            }
            let scale = NANOS_PER_UNIT
                .iter()
                .find(|(name, _)| *name == unit)
                .map(|(_, scale)| *scale)
                .ok_or_else(|| err("unknown unit"))?;
            let whole: u128 =
                if int_part.is_empty() { 0 } else { int_part.parse().map_err(|_| err("number out of range"))? };
            let mut value = whole.checked_mul(scale).ok_or_else(|| err("overflow"))?;
            // Fraction digits beyond nanosecond precision are dropped, as Go does.
            let mut place = scale;
            for digit in frac_part.bytes() {
                place /= 10;
                if place == 0 {
                    break;
                }
                value += u128::from(digit - b'0') * place;
            }
            total = total.checked_add(value).ok_or_else(|| err("overflow"))?;
            rest = next;
        }
        let limit = if negative { 1u128 << 63 } else { (1u128 << 63) - 1 };
        if total > limit {
            return Err(err("overflow"));
        }
        let signed = i128::try_from(total).map_err(|_| err("overflow"))?;
        let signed = if negative { -signed } else { signed };
        i64::try_from(signed).map(Self).map_err(|_| err("overflow"))
    }
}

/// Appends `v / 10^prec` with its fraction, trailing zeros (and a bare dot) removed.
fn push_fraction(out: &mut String, v: u64, prec: u32) -> u64 {
    let divisor = 10u64.pow(prec);
    let frac = v % divisor;
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = prec as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    v / divisor
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let negative = self.0 < 0;
        let u = self.0.unsigned_abs();
        if u == 0 {
            return f.write_str("0s");
        }
        let mut out = String::new();
        if u < 1_000_000_000 {
            let (prec, unit) = if u < 1_000 {
                (0, "ns")
            } else if u < 1_000_000 {
                (3, "µs")
            } else {
                (6, "ms")
            };
            let mut frac = String::new();
            let whole = push_fraction(&mut frac, u, prec);
            out = format!("{whole}{frac}{unit}");
        } else {
            let mut frac = String::new();
            let secs_total = push_fraction(&mut frac, u, 9);
            let secs = secs_total % 60;
            let mins_total = secs_total / 60;
            if mins_total > 0 {
                let mins = mins_total % 60;
                let hours = mins_total / 60;
                if hours > 0 {
                    out.push_str(&format!("{hours}h"));
                }
                out.push_str(&format!("{mins}m"));
            }
            out.push_str(&format!("{secs}{frac}s"));
        }
        if negative {
            out.insert(0, '-');
        }
        f.write_str(&out)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for GoDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GoDuration".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "duration" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (500_000_000, "500ms"),
            (1_500_000_000, "1.5s"),
            (10_000_000_000, "10s"),
            (90_000_000_000, "1m30s"),
            (300_000_000_000, "5m0s"),
            (1_200_000_000_000, "20m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (5_400_000_000_000, "1h30m0s"),
            (-90_000_000_000, "-1m30s"),
            (100_000_000, "100ms"),
        ];
        for (nanos, text) in cases {
            assert_eq!(GoDuration(*nanos).to_string(), *text, "{nanos}");
        }
    }

    #[test]
    fn parses_go_syntax() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("0s", 0),
            ("1h", 3_600_000_000_000),
            ("60m", 3_600_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("1.5s", 1_500_000_000),
            ("500ms", 500_000_000),
            ("2us", 2_000),
            ("2µs", 2_000),
            ("-1m30s", -90_000_000_000),
            ("+5s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1m0.25s", 60_250_000_000),
        ];
        for (text, nanos) in cases {
            assert_eq!(GoDuration::parse(text), Ok(GoDuration(*nanos)), "{text}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for text in ["", "1", "1d", "1w", "s", "1.s.", "abc", "9999999999h", "-"] {
            assert!(GoDuration::parse(text).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn round_trips() {
        for nanos in [0, 1, 999, 1_000_001, 59_999_999_999, 3_600_000_000_001, -7] {
            let d = GoDuration(nanos);
            assert_eq!(GoDuration::parse(&d.to_string()), Ok(d));
        }
    }
}
