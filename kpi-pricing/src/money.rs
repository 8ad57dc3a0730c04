//! Exact decimal amounts: money, hours and quantities, and min–max ranges of them.
//!
//! Every amount is a [`Decimal`], so $0.10 × 500 GB is exactly $50. Line items are rounded to
//! cents (half away from zero) once, where they are priced; totals add rounded line items, so a
//! proposal's totals always equal the sum of the lines it shows.

use std::fmt;
use std::ops::{Add, Mul, Sub};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of US dollars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub Decimal);

impl Money {
    /// Zero dollars.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Whole dollars.
    pub fn dollars(amount: i64) -> Money {
        Money(Decimal::from(amount))
    }

    /// An amount written in decimal, e.g. `"0.09"`. Returns `None` when `text` is not a decimal.
    pub fn parse(text: &str) -> Option<Money> {
        parse_decimal(text).map(Money)
    }

    /// Rounded to cents, half away from zero: how a line item is charged.
    pub fn to_cents(self) -> Money {
        Money(self.0.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero).normalize())
    }

    /// `self` times a quantity (hours, GB, instances), rounded to cents.
    pub fn times(self, quantity: Decimal) -> Money {
        Money(self.0 * quantity).to_cents()
    }

    /// The amount as a decimal.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Sum of amounts.
    pub fn sum(items: impl IntoIterator<Item = Money>) -> Money {
        items.into_iter().fold(Money::ZERO, |a, b| a + b)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0 - other.0)
    }
}

impl Mul<Decimal> for Money {
    type Output = Money;
    fn mul(self, quantity: Decimal) -> Money {
        Money(self.0 * quantity)
    }
}

/// `$65,000`, `$666.67`, `-$5`: thousands separators, cents only when there are any.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.to_cents().0;
        let sign = if value.is_sign_negative() && !value.is_zero() { "-" } else { "" };
        let text = value.abs().normalize().to_string();
        let (whole, cents) = match text.split_once('.') {
            Some((w, c)) => (w.to_string(), format!(".{c:0<2}")),
            None => (text, String::new()),
        };
        write!(f, "{sign}${}{cents}", group_thousands(&whole))
    }
}

/// `1234567` → `1,234,567`.
pub(crate) fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A decimal quantity as people write it: `66.67`, `1,000`, `0.5`.
pub(crate) fn quantity(value: Decimal) -> String {
    let text = value.normalize().to_string();
    match text.split_once('.') {
        Some((w, f)) => format!("{}.{f}", group_thousands(w)),
        None => group_thousands(&text),
    }
}

/// Parses a decimal written as text, rejecting anything else (`NaN`, `inf`, `1e999`).
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text).or_else(|_| Decimal::from_scientific(text)).ok()
}

/// Money is written as a JSON/YAML number (the spec's `number`), exactly: a decimal with at most
/// 15 significant digits survives the trip through `f64` text unchanged.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        decimal::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        decimal::deserialize(d).map(Money)
    }
}

/// Serde for a plain [`Decimal`] as a number: numbers are read through their shortest text (so
/// `0.1` is exactly one tenth) and strings such as `"0.10"` are accepted too.
pub mod decimal {
    use super::*;

    /// Writes `value` as a number.
    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        let normal = value.normalize();
        if normal.scale() == 0
            && let Ok(i) = i64::try_from(normal)
        {
            return s.serialize_i64(i);
        }
        let f: f64 = normal.to_string().parse().map_err(serde::ser::Error::custom)?;
        s.serialize_f64(f)
    }

    /// Reads a number or a decimal string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }

    struct DecimalVisitor;

    impl serde::de::Visitor<'_> for DecimalVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal number")
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
            if !v.is_finite() {
                return Err(E::custom(format!("{v} is not a finite number")));
            }
            parse_decimal(&v.to_string()).ok_or_else(|| E::custom(format!("{v} is out of range (at most 28 digits)")))
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
            parse_decimal(v).ok_or_else(|| E::custom(format!("`{v}` is not a decimal number")))
        }
    }

    /// The same for `Option<Decimal>`.
    pub mod option {
        use super::*;

        /// Writes `Some` as a number and `None` as null.
        pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        /// Reads a number, a decimal string or null.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            #[derive(Deserialize)]
            struct Wrap(#[serde(with = "super")] Decimal);
            Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
        }
    }
}

/// A range from `min` to `max` (inclusive), e.g. 40–60 hours or $7,000–$10,500.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range<T> {
    /// The low end.
    pub min: T,
    /// The high end.
    pub max: T,
}

impl<T: Copy> Range<T> {
    /// A range of one value.
    pub fn exactly(value: T) -> Range<T> {
        Range { min: value, max: value }
    }

    /// Applies `f` to both ends.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Range<U> {
        Range { min: f(self.min), max: f(self.max) }
    }
}

impl Range<Money> {
    /// The element-wise sum of ranges.
    pub fn sum(items: impl IntoIterator<Item = Range<Money>>) -> Range<Money> {
        items.into_iter().fold(Range::exactly(Money::ZERO), |a, b| a + b)
    }
}

impl Add for Range<Money> {
    type Output = Range<Money>;
    fn add(self, other: Range<Money>) -> Range<Money> {
        Range { min: self.min + other.min, max: self.max + other.max }
    }
}

impl Add<Money> for Range<Money> {
    type Output = Range<Money>;
    fn add(self, other: Money) -> Range<Money> {
        Range { min: self.min + other, max: self.max + other }
    }
}

/// `$7,000-10,500` as the spec's tables write a money range; one amount when both ends agree.
impl fmt::Display for Range<Money> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            return write!(f, "{}", self.min);
        }
        let max = self.max.to_string();
        write!(f, "{}-{}", self.min, max.trim_start_matches('$'))
    }
}

/// Hours as a range, e.g. `40-60`; one number when both ends agree.
impl fmt::Display for Range<Decimal> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            return write!(f, "{}", quantity(self.min));
        }
        write!(f, "{}-{}", quantity(self.min), quantity(self.max))
    }
}

/// Serde for `Range<Decimal>` as `{min, max}` numbers.
pub mod decimal_range {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Repr {
        #[serde(with = "super::decimal")]
        min: Decimal,
        #[serde(with = "super::decimal")]
        max: Decimal,
    }

    /// Writes `{min, max}`.
    pub fn serialize<S: Serializer>(value: &Range<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        Repr { min: value.min, max: value.max }.serialize(s)
    }

    /// Reads `{min, max}`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Range<Decimal>, D::Error> {
        let r = Repr::deserialize(d)?;
        Ok(Range { min: r.min, max: r.max })
    }

    /// The same for `Option<Range<Decimal>>`.
    pub mod option {
        use super::*;

        /// Writes `Some` as `{min, max}` and `None` as null.
        pub fn serialize<S: Serializer>(value: &Option<Range<Decimal>>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        /// Reads `{min, max}` or null.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Range<Decimal>>, D::Error> {
            Ok(Option::<Repr>::deserialize(d)?.map(|r| Range { min: r.min, max: r.max }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_a_quote() {
        assert_eq!(Money::dollars(65_000).to_string(), "$65,000");
        assert_eq!(Money::parse("666.666").unwrap().to_string(), "$666.67");
        assert_eq!(Money::parse("0.1").unwrap().to_string(), "$0.10");
        assert_eq!(Money::parse("-5").unwrap().to_string(), "-$5");
        assert_eq!(Money::dollars(1_234_567).to_string(), "$1,234,567");
        let r = Range { min: Money::dollars(7_000), max: Money::dollars(10_500) };
        assert_eq!(r.to_string(), "$7,000-10,500");
    }

    #[test]
    fn money_is_exact() {
        let rate = Money::parse("0.10").unwrap();
        assert_eq!(rate.times(Decimal::from(500)), Money::dollars(50));
        let three = Money::parse("0.1").unwrap() + Money::parse("0.2").unwrap();
        assert_eq!(three, Money::parse("0.3").unwrap());
    }

    #[test]
    fn reads_numbers_through_their_text() {
        let m: Money = serde_json::from_str("0.09").unwrap();
        assert_eq!(m, Money::parse("0.09").unwrap());
        let m: Money = serde_json::from_str("\"32500\"").unwrap();
        assert_eq!(m, Money::dollars(32_500));
        assert!(serde_json::from_str::<Money>("1e300").is_err());
        assert_eq!(serde_json::to_string(&Money::parse("666.67").unwrap()).unwrap(), "666.67");
        assert_eq!(serde_json::to_string(&Money::dollars(22_320)).unwrap(), "22320");
    }
}
