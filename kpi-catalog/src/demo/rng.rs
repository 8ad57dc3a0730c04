//! A small, fast, seedable random generator and the samplers demo data needs.

/// xoshiro256++ seeded through SplitMix64: fast, good quality, and reproducible across platforms.
pub(crate) struct Rng([u64; 4]);

impl Rng {
    /// A generator for one stream, derived from the seed and the stream's identifiers.
    pub fn new(seed: u64, stream: &[u64]) -> Rng {
        let mut x = seed ^ 0x9E37_79B9_7F4A_7C15;
        for s in stream {
            x = splitmix(&mut x) ^ s.wrapping_mul(0xD1B5_4A32_D192_ED03);
        }
        Rng([splitmix(&mut x), splitmix(&mut x), splitmix(&mut x), splitmix(&mut x)])
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n) (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An index drawn from a cumulative distribution (last element is the total).
    pub fn pick(&mut self, cdf: &[f64]) -> usize {
        let total = cdf.last().copied().unwrap_or(0.0);
        let x = self.unit() * total;
        cdf.partition_point(|c| *c <= x).min(cdf.len().saturating_sub(1))
    }
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Cumulative sums of weights.
pub(crate) fn cdf(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    weights
        .into_iter()
        .map(|w| {
            total += w.max(0.0);
            total
        })
        .collect()
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Business activity over a date range: more on weekdays and in business hours, a yearly
/// season and steady growth, so demo KPIs have trends and weekly patterns to show.
pub(crate) struct Activity {
    first_day: i64,
    start: i64,
    end: i64,
    days: Vec<f64>,
    hours: Vec<f64>,
}

impl Activity {
    /// Activity between two instants in microseconds since the epoch (`start < end`).
    pub fn new(start: i64, end: i64) -> Activity {
        let first_day = start.div_euclid(MICROS_PER_DAY);
        let last_day = (end - 1).div_euclid(MICROS_PER_DAY);
        let n = (last_day - first_day + 1) as f64;
        let days = cdf((first_day..=last_day).map(|d| {
            // 1970-01-01 was a Thursday: weekday 0 = Monday.
            let weekday = (d + 3).rem_euclid(7);
            let week = if weekday >= 5 { 0.55 } else { 1.0 };
            let season = 1.0 + 0.12 * (std::f64::consts::TAU * (d.rem_euclid(365) as f64 - 80.0) / 365.0).sin();
            let growth = 1.0 + 0.35 * (d - first_day) as f64 / n.max(1.0);
            week * season * growth
        }));
        let hours = cdf((0..24).map(|h: i32| match h {
            0..=5 => 0.15,
            6..=8 => 0.6,
            9..=17 => 1.6,
            18..=21 => 0.9,
            _ => 0.35,
        }));
        Activity { first_day, start, end, days, hours }
    }

    /// An instant drawn from the activity curve, inside [start, end).
    pub fn sample(&self, rng: &mut Rng) -> i64 {
        let day = self.first_day + rng.pick(&self.days) as i64;
        let hour = rng.pick(&self.hours) as i64;
        let t = day * MICROS_PER_DAY + hour * 3_600_000_000 + rng.below(3_600_000_000) as i64;
        t.clamp(self.start, self.end - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(42, &[1, 2]);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(42, &[1, 2]);
                move |_| r.next_u64()
            })
            .collect();
        let c = Rng::new(42, &[1, 3]).next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
    }

    #[test]
    fn activity_stays_in_range_and_prefers_weekdays() {
        let start = 19_723 * MICROS_PER_DAY; // 2024-01-01, a Monday
        let end = start + 28 * MICROS_PER_DAY;
        let activity = Activity::new(start, end);
        let mut rng = Rng::new(7, &[]);
        let mut weekend = 0;
        for _ in 0..10_000 {
            let t = activity.sample(&mut rng);
            assert!((start..end).contains(&t));
            if (t.div_euclid(MICROS_PER_DAY) + 3).rem_euclid(7) >= 5 {
                weekend += 1;
            }
        }
        // Weekends are 2/7 of days at 0.55 weight: about 18 % of rows.
        assert!((1_300..2_400).contains(&weekend), "{weekend}");
    }
}
