//! Reputation as SES enforces it on an account: the bounce rate and the
//! complaint rate over recent sends decide whether an organization is
//! healthy, under review (probation) or to be paused (shutdown). Pure:
//! the store counts, this module judges.

/// SES's enforcement statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    Healthy,
    Probation,
    Shutdown,
}

impl Enforcement {
    /// SES's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "HEALTHY",
            Self::Probation => "PROBATION",
            Self::Shutdown => "SHUTDOWN",
        }
    }
}

/// Where the rates start to count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Sends before the rates count at all.
    pub min_sample: i64,
    pub review_bounce_rate: f64,
    pub pause_bounce_rate: f64,
    pub review_complaint_rate: f64,
    pub pause_complaint_rate: f64,
}

/// Recent sends and the hard bounces and complaints among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub sends: i64,
    pub bounces: i64,
    pub complaints: i64,
}

/// The rates and what they mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub bounce_rate: f64,
    pub complaint_rate: f64,
    /// What the rates call for (a paused organization is shut down
    /// whatever its rates; the caller knows that).
    pub state: Enforcement,
    /// Why, in words, unless healthy.
    pub reason: Option<String>,
}

fn rate(part: i64, sends: i64) -> f64 {
    if sends > 0 {
        part as f64 / sends as f64
    } else {
        0.0
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// Judges `counts` against `thresholds`: nothing before `min_sample` sends.
pub fn judge(counts: Counts, thresholds: &Thresholds) -> Judgement {
    let bounce_rate = rate(counts.bounces, counts.sends);
    let complaint_rate = rate(counts.complaints, counts.sends);
    let over = |pause: bool| {
        let (bounce_limit, complaint_limit) = if pause {
            (
                thresholds.pause_bounce_rate,
                thresholds.pause_complaint_rate,
            )
        } else {
            (
                thresholds.review_bounce_rate,
                thresholds.review_complaint_rate,
            )
        };
        let mut why = Vec::new();
        if bounce_rate >= bounce_limit {
            why.push(format!(
                "bounce rate {} (at {} and above)",
                percent(bounce_rate),
                percent(bounce_limit)
            ));
        }
        if complaint_rate >= complaint_limit {
            why.push(format!(
                "complaint rate {} (at {} and above)",
                percent(complaint_rate),
                percent(complaint_limit)
            ));
        }
        (!why.is_empty())
            .then(|| format!("{} over the last {} sends", why.join(" and "), counts.sends))
    };
    let (state, reason) = if counts.sends < thresholds.min_sample {
        (Enforcement::Healthy, None)
    } else if let Some(why) = over(true) {
        (Enforcement::Shutdown, Some(why))
    } else if let Some(why) = over(false) {
        (Enforcement::Probation, Some(why))
    } else {
        (Enforcement::Healthy, None)
    };
    Judgement {
        bounce_rate,
        complaint_rate,
        state,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SES: Thresholds = Thresholds {
        min_sample: 100,
        review_bounce_rate: 0.05,
        pause_bounce_rate: 0.10,
        review_complaint_rate: 0.001,
        pause_complaint_rate: 0.005,
    };

    fn state(sends: i64, bounces: i64, complaints: i64) -> Enforcement {
        let counts = Counts {
            sends,
            bounces,
            complaints,
        };
        judge(counts, &SES).state
    }

    #[test]
    fn ses_thresholds_review_then_pause_after_a_sample() {
        assert_eq!(state(99, 99, 0), Enforcement::Healthy, "too few sends");
        assert_eq!(state(1000, 49, 0), Enforcement::Healthy);
        assert_eq!(state(1000, 50, 0), Enforcement::Probation);
        assert_eq!(state(1000, 100, 0), Enforcement::Shutdown);
        assert_eq!(state(1000, 0, 1), Enforcement::Probation);
        assert_eq!(state(1000, 0, 5), Enforcement::Shutdown);
        let judged = judge(
            Counts {
                sends: 200,
                bounces: 30,
                complaints: 0,
            },
            &SES,
        );
        assert_eq!(
            judged.reason.as_deref(),
            Some("bounce rate 15.0% (at 10.0% and above) over the last 200 sends")
        );
        assert_eq!(judge(Counts::default(), &SES).bounce_rate, 0.0);
    }
}
