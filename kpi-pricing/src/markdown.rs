//! The proposal as Markdown, following the specification's "Proposal Document Structure".

use std::fmt::Write;

use crate::infrastructure::InstanceCost;
use crate::money::{Money, quantity};
use crate::proposal::ServiceProposal;

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

impl ServiceProposal {
    /// The proposal as a Markdown document.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_markdown(&mut out);
        out
    }

    fn write_markdown(&self, o: &mut String) -> std::fmt::Result {
        let l = &self.licensing;
        let im = &self.implementation;
        let inf = &self.infrastructure.details;
        let ms = &self.managed_services;
        let years = l.license_term.years();

        writeln!(o, "# Analytics Engine Service Proposal")?;
        if let Some(client) = &self.client {
            writeln!(o, "**Client:** {client}  ")?;
        }
        writeln!(o, "**Date:** {}  ", self.date)?;
        writeln!(o, "**Valid Until:** {}", self.valid_until)?;
        writeln!(o, "\n---\n\n## Executive Summary")?;
        writeln!(
            o,
            "This proposal outlines the licensing, implementation, infrastructure, and support costs for deploying the Analytics Engine platform for {} KPI(s) over {} object model(s).",
            self.selected_kpis.len(),
            self.required_object_models.len()
        )?;

        writeln!(o, "\n---\n\n## 1. Licensing")?;
        writeln!(
            o,
            "**Value Chains:** {} ({} chain{})  ",
            l.value_chain_names.join(", "),
            l.value_chains.len(),
            plural(l.value_chains.len())
        )?;
        writeln!(o, "**License Term:** {years} year{}  ", plural(years as usize))?;
        writeln!(o, "**Annual Cost:** {}/year ({} per chain)  ", l.annual_total, l.annual_cost_per_chain)?;
        writeln!(o, "**Total {years}-Year Cost:** {}", l.term_total)?;
        writeln!(
            o,
            "\n**Included:**\n- Unlimited KPIs within selected value chains\n- Platform access and updates\n- Standard business hours support"
        )?;

        writeln!(o, "\n---\n\n## 2. Implementation - Statement of Work\n\n### Data Source Integration")?;
        writeln!(
            o,
            "| Object Model | Source System | Integration Type | Cost |\n|--------------|---------------|------------------|------|"
        )?;
        for i in &im.data_integration {
            let cost = if i.time_and_materials { "T&M (below)".to_string() } else { i.cost.to_string() };
            writeln!(o, "| {} | {} | {} | {cost} |", cell(&i.object_model_name), cell(&i.source_system), i.integration_type)?;
        }
        let integration_total = Money::sum(im.data_integration.iter().map(|i| i.cost));
        writeln!(o, "\n**Subtotal Data Integration:** {integration_total}")?;
        writeln!(o, "\n### KPI Implementation")?;
        writeln!(o, "| KPI Code | KPI Name | Complexity | Cost |\n|----------|----------|------------|------|")?;
        for k in &im.kpi_implementation {
            let cost = if k.time_and_materials { "T&M (below)".to_string() } else { k.cost.to_string() };
            writeln!(o, "| {} | {} | {} | {cost} |", cell(&k.kpi_code), cell(&k.kpi_name), k.complexity)?;
        }
        let kpi_total = Money::sum(im.kpi_implementation.iter().map(|k| k.cost));
        writeln!(o, "\n**Subtotal KPI Implementation:** {kpi_total}")?;
        let env = &im.environment_setup;
        writeln!(o, "\n### Environment Setup\n**Platform:** {}  ", env.platform)?;
        if env.setup_required {
            writeln!(o, "**Setup Required:** Yes  ")?;
            writeln!(o, "**Cloud Architect:** {} hours at {}/hr = {}  ", quantity(env.cloud_architect_hours), env.rate, env.cost)?;
            writeln!(o, "**Access Specialist:** Included")?;
        } else {
            writeln!(o, "**Setup Required:** No  \n**Access Specialist:** Included")?;
        }
        writeln!(o, "\n**Subtotal Environment:** {}", env.cost)?;
        if !im.tm_items.is_empty() {
            writeln!(o, "\n### Time & Materials (T&M) Items")?;
            writeln!(o, "| Item | Estimated Hours | Rate | Estimated Cost |\n|------|----------------|------|----------------|")?;
            for t in &im.tm_items {
                writeln!(o, "| {} | {} | {}/hr | {} |", cell(&t.description), t.estimated_hours, t.rate, t.estimated_cost)?;
            }
            writeln!(o, "\n**T&M Range:** {} - {}", im.tm_cost_range.min, im.tm_cost_range.max)?;
        }
        writeln!(o, "\n**Total Implementation Cost:** {}", range(im.implementation_total.min, im.implementation_total.max))?;

        writeln!(o, "\n---\n\n## 3. Infrastructure Costs (Annual)\n\n### Compute")?;
        for (name, i) in [
            ("API Gateway", &inf.compute.api_gateway),
            ("Business Services", &inf.compute.business_services),
            ("Backend Services", &inf.compute.backend_services),
        ] {
            writeln!(o, "- {name}: {}", instances(i))?;
        }
        let c = &self.infrastructure.compute;
        writeln!(o, "\n**Subtotal:** {}/month = {}/year", c.monthly, c.annual)?;
        let st = &inf.storage;
        writeln!(o, "\n### Storage")?;
        writeln!(
            o,
            "- Active Database: {} GB × {}/GB = {}/month",
            quantity(st.active_database.storage_gb),
            st.active_database.cost_per_gb,
            st.active_database.monthly_cost
        )?;
        writeln!(
            o,
            "- Archived Data: {} GB × {}/GB = {}/month",
            quantity(st.archived_data.storage_gb),
            st.archived_data.cost_per_gb,
            st.archived_data.monthly_cost
        )?;
        writeln!(o, "- Redis: {} = {}/month", st.redis.instance_type, st.redis.monthly_cost)?;
        let s = &self.infrastructure.storage;
        writeln!(o, "\n**Subtotal:** {}/month = {}/year", s.monthly, s.annual)?;
        let n = &inf.network;
        writeln!(o, "\n### Network")?;
        writeln!(o, "- Data Transfer: {} GB × {}/GB = {}/month", quantity(n.data_transfer_gb), n.cost_per_gb, n.monthly_cost)?;
        let nt = &self.infrastructure.network;
        writeln!(o, "\n**Subtotal:** {}/month = {}/year", nt.monthly, nt.annual)?;
        writeln!(o, "\n**Total Annual Infrastructure:** {}", self.infrastructure.total.annual)?;

        writeln!(o, "\n---\n\n## 4. Managed Services (Annual)")?;
        if ms.retainer.amount().is_zero() {
            writeln!(o, "**Support:** handled by the client (no retainer)")?;
        } else {
            writeln!(o, "**Support Retainer:** {}/year ({} hours at {}/hr)  ", ms.retainer, quantity(ms.retainer_hours), ms.hourly_rate)?;
            writeln!(o, "**Estimated Additional Hours:** {} hours = {}  ", quantity(ms.estimated_additional_hours), ms.additional_cost)?;
        }
        writeln!(o, "**Total Managed Services:** {}/year", ms.annual_total)?;

        let t = &self.totals;
        writeln!(o, "\n---\n\n## 5. Total Cost Summary\n\n### Year 1")?;
        writeln!(o, "- Licensing: {}", l.annual_total)?;
        writeln!(o, "- Implementation (One-time): {}", range(im.implementation_total.min, im.implementation_total.max))?;
        writeln!(o, "- Infrastructure: {}", self.infrastructure.total.annual)?;
        writeln!(o, "- Managed Services: {}", ms.annual_total)?;
        writeln!(o, "\n**Year 1 Total:** {}", range(t.year1.min, t.year1.max))?;
        if years > 1 {
            writeln!(o, "\n### Years 2-{years} (Annual)")?;
            writeln!(
                o,
                "- Licensing: {}\n- Infrastructure: {}\n- Managed Services: {}",
                l.annual_total, self.infrastructure.total.annual, ms.annual_total
            )?;
            writeln!(o, "\n**Annual Cost:** {}", t.yearly_recurring)?;
        }
        writeln!(o, "\n### {years}-Year Total\n**Total Investment:** {}", range(t.term_total.min, t.term_total.max))?;

        writeln!(o, "\n---\n\n## 6. Resource Schedule\n\n### Integration Team")?;
        for r in &self.resources {
            writeln!(o, "- **{}:** {} - {}", r.role, r.name, r.weeks)?;
        }
        writeln!(o, "\n### Timeline")?;
        for p in &self.timeline {
            writeln!(o, "- {}: {}", p.phase, p.weeks)?;
        }

        if !self.retention.changes.is_empty() || !self.assumptions.is_empty() {
            writeln!(o, "\n---\n\n## Assumptions")?;
            for c in &self.retention.changes {
                writeln!(o, "- Compliance: {c}.")?;
            }
            for a in &self.assumptions {
                writeln!(o, "- {a}")?;
            }
        }

        writeln!(o, "\n---\n\n## 7. Terms & Conditions\nStandard terms and conditions apply.")?;
        writeln!(
            o,
            "\n---\n\n## 8. Next Steps\n1. Review and approve proposal\n2. Sign license agreement\n3. Kick-off meeting\n4. Begin implementation"
        )?;
        writeln!(o, "\n**Proposal Valid Until:** {}", self.valid_until)
    }
}

/// `2 × t3.medium = $100/month`.
fn instances(i: &InstanceCost) -> String {
    format!("{} × {} = {}/month", i.instance_count, i.instance_type, i.monthly_cost)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `$10,500 - $15,750`, or one amount when both ends agree.
fn range(min: Money, max: Money) -> String {
    if min == max { min.to_string() } else { format!("{min} - {max}") }
}
