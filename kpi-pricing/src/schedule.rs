//! The resource schedule and timeline of an implementation.
//!
//! One person-week is 40 hours. Environment setup takes the cloud architect's hours; data
//! integration starts in the last week of setup (week 1 without setup) and takes the
//! integration hours (fixed work plus the high end of time and materials); KPI implementation
//! starts halfway through integration and ends at least two weeks after it, since KPIs need
//! their data; testing and UAT run from the week before KPI work ends to the week after; go-live
//! is the week after that. With two weeks of setup and five of integration this gives the
//! specification's plan: setup 1–2, integration 2–6, KPIs 4–8, UAT 7–9, go-live 10.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::money::Money;

/// Hours one person works in a week.
const HOURS_PER_WEEK: u32 = 40;

/// The roles of an implementation.
pub mod roles {
    /// Fixed-price integration and KPI work.
    pub const DEVELOPER: &str = "Integration Developer/Analyst";
    /// Time-and-materials work.
    pub const ARCHITECT: &str = "Integration Architect";
    /// Network access, accounts and permissions to the client's environment.
    pub const ACCESS_SPECIALIST: &str = "Access Specialist";
    /// Setting up a new environment.
    pub const CLOUD_ARCHITECT: &str = "Cloud Architect";
}

/// A person on the project (the spec's `resources` entries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// The role.
    pub role: String,
    /// Who; to be assigned when the proposal is accepted.
    pub name: String,
    /// When, e.g. `Weeks 1-8` or `As needed for T&M`.
    pub weeks: String,
    /// The hourly rate (zero when the role's cost is included in another item).
    pub rate: Money,
}

/// A phase of the plan (the spec's `timeline` entries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Phase {
    /// The phase's name.
    pub phase: String,
    /// When, e.g. `Weeks 2-6`.
    pub weeks: String,
    /// The roles working in it.
    pub resources: Vec<String>,
    /// The first week.
    pub first_week: u32,
    /// The last week.
    pub last_week: u32,
}

/// The work to schedule, in hours.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Work {
    pub setup_hours: Decimal,
    pub integration_hours: Decimal,
    pub integration_tm: bool,
    pub kpi_hours: Decimal,
    pub kpi_tm: bool,
}

/// `Week 1` or `Weeks 2-6`.
fn weeks(first: u32, last: u32) -> String {
    if first == last { format!("Week {first}") } else { format!("Weeks {first}-{last}") }
}

fn person_weeks(hours: Decimal) -> u32 {
    let w = (hours / Decimal::from(HOURS_PER_WEEK)).ceil();
    u32::try_from(w).unwrap_or(u32::MAX).max(1)
}

/// The resources and timeline of `work`, with the given rates.
pub(crate) fn plan(work: &Work, developer_rate: Money, architect_rate: Money, cloud_rate: Money) -> (Vec<Resource>, Vec<Phase>) {
    let setup_weeks = if work.setup_hours > Decimal::ZERO { person_weeks(work.setup_hours) } else { 0 };
    let integration_start = setup_weeks.max(1);
    let integration_end = integration_start.saturating_add(person_weeks(work.integration_hours) - 1);
    let integration_weeks = integration_end - integration_start + 1;
    let kpi_start = integration_start + integration_weeks / 2;
    let kpi_end = kpi_start.saturating_add(person_weeks(work.kpi_hours) - 1).max(integration_end.saturating_add(2));
    let go_live = kpi_end.saturating_add(2);
    let person = |role: &str, weeks: String, rate: Money| Resource { role: role.into(), name: "To be assigned".into(), weeks, rate };
    let phase = |name: &str, first: u32, last: u32, resources: &[&str]| Phase {
        phase: name.into(),
        weeks: weeks(first, last),
        resources: resources.iter().map(|r| r.to_string()).collect(),
        first_week: first,
        last_week: last,
    };

    let mut resources = vec![person(roles::DEVELOPER, weeks(integration_start, kpi_end), developer_rate)];
    if work.integration_tm || work.kpi_tm {
        resources.push(person(roles::ARCHITECT, "As needed for T&M".into(), architect_rate));
    }
    resources.push(person(roles::ACCESS_SPECIALIST, weeks(1, 1), Money::ZERO));
    let mut timeline = Vec::new();
    if setup_weeks > 0 {
        resources.push(person(roles::CLOUD_ARCHITECT, weeks(1, setup_weeks), cloud_rate));
        timeline.push(phase("Environment Setup", 1, setup_weeks, &[roles::CLOUD_ARCHITECT, roles::ACCESS_SPECIALIST]));
    } else {
        timeline.push(phase("Environment Access", 1, 1, &[roles::ACCESS_SPECIALIST]));
    }
    let with_architect = |tm: bool| if tm { vec![roles::DEVELOPER, roles::ARCHITECT] } else { vec![roles::DEVELOPER] };
    timeline.push(phase("Data Integration", integration_start, integration_end, &with_architect(work.integration_tm)));
    timeline.push(phase("KPI Implementation", kpi_start, kpi_end, &with_architect(work.kpi_tm)));
    timeline.push(phase("Testing & UAT", kpi_end - 1, kpi_end.saturating_add(1), &[roles::DEVELOPER]));
    timeline.push(phase("Go-Live", go_live, go_live, &[roles::DEVELOPER]));
    (resources, timeline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_plan() {
        let work =
            Work { setup_hours: 60.into(), integration_hours: 180.into(), integration_tm: true, kpi_hours: 10.into(), kpi_tm: false };
        let (resources, timeline) = plan(&work, Money::dollars(70), Money::dollars(175), Money::dollars(175));
        let got: Vec<(String, String)> = timeline.iter().map(|p| (p.phase.clone(), p.weeks.clone())).collect();
        let want = [
            ("Environment Setup", "Weeks 1-2"),
            ("Data Integration", "Weeks 2-6"),
            ("KPI Implementation", "Weeks 4-8"),
            ("Testing & UAT", "Weeks 7-9"),
            ("Go-Live", "Week 10"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
        let developer = &resources[0];
        assert_eq!((developer.role.as_str(), developer.weeks.as_str()), (roles::DEVELOPER, "Weeks 2-8"));
        assert!(resources.iter().any(|r| r.role == roles::CLOUD_ARCHITECT && r.weeks == "Weeks 1-2"));
    }

    #[test]
    fn no_setup_starts_in_week_one() {
        let (_, timeline) =
            plan(&Work { integration_hours: 15.into(), kpi_hours: 1.into(), ..Work::default() }, Money::ZERO, Money::ZERO, Money::ZERO);
        assert_eq!(timeline[0].phase, "Environment Access");
        assert_eq!(timeline[1].weeks, "Week 1");
        assert_eq!(timeline.last().unwrap().weeks, "Week 5");
    }
}
