//! Reports as PDF: A4 pages with the title and period, then per KPI a heading, its latest
//! value, a line chart of each group's series with the threshold lines, and a table of the
//! values with status colours. Written with pdf-writer in the standard Helvetica fonts (no
//! font files to ship or embed; text is WinAnsi, which `pdftotext` reads back).

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

use super::render::{Content as Report, Row, Section};
use crate::result::Status;

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
/// Table rows shown per KPI; the CSV and JSON forms have all of them.
const TABLE_ROWS: usize = 24;
/// Series drawn per chart.
const CHART_GROUPS: usize = 6;
const PALETTE: [(f32, f32, f32); CHART_GROUPS] =
    [(0.12, 0.47, 0.71), (0.85, 0.37, 0.01), (0.17, 0.63, 0.17), (0.58, 0.40, 0.74), (0.55, 0.34, 0.29), (0.89, 0.47, 0.76)];

/// Helvetica's advance widths (per 1000 units of the font size) for ASCII 32..=126.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278,
    278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722,
    667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556,
    556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// The width of `text` in points at `size` (bold about 5% wider).
fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = text.chars().map(|c| if (' '..='~').contains(&c) { u32::from(HELVETICA[c as usize - 32]) } else { 556 }).sum();
    units as f32 * size / 1000.0 * if bold { 1.05 } else { 1.0 }
}

/// `text` in WinAnsi (Latin-1 and a few typographic marks); other characters become `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\u{2022}' => 0x95,
            '\u{2026}' => 0x85,
            '\u{20ac}' => 0x80,
            c if (c as u32) < 0x80 || (0xa0..=0xff).contains(&(c as u32)) => c as u8,
            _ => b'?',
        })
        .collect()
}

/// Cuts `text` to fit `width`, with an ellipsis.
fn fit(text: &str, size: f32, width: f32) -> String {
    if text_width(text, size, false) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if text_width(&format!("{out}{c}\u{2026}"), size, false) > width {
            break;
        }
        out.push(c);
    }
    format!("{out}\u{2026}")
}

/// Splits `text` into lines of at most `width`.
fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if text_width(&candidate, size, false) > width && !line.is_empty() {
            lines.push(std::mem::replace(&mut line, fit(word, size, width)));
        } else {
            line = fit(&candidate, size, width);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A number as people read it: thousands grouped, up to four significant decimals.
pub(crate) fn number(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let decimals = if v.abs() >= 1000.0 {
        0
    } else if v.abs() >= 1.0 {
        2
    } else {
        4
    };
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').map_or((text.as_str(), ""), |(i, f)| (i, f));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let frac = frac.trim_end_matches('0');
    let sign = if v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    if frac.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{frac}") }
}

fn status_colour(status: Status) -> (f32, f32, f32) {
    match status {
        Status::Good => (0.80, 0.92, 0.80),
        Status::Warning => (1.00, 0.88, 0.60),
        Status::Critical => (0.98, 0.70, 0.70),
        Status::NotRated | Status::NoData => (0.90, 0.90, 0.90),
    }
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Good => "good",
        Status::Warning => "warning",
        Status::Critical => "critical",
        Status::NotRated => "not rated",
        Status::NoData => "no data",
    }
}

/// Pages being drawn, top to bottom.
struct Pages {
    done: Vec<Content>,
    page: Content,
    y: f32,
}

impl Pages {
    fn new() -> Pages {
        Pages { done: Vec::new(), page: Content::new(), y: HEIGHT - MARGIN }
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn room(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.done.push(std::mem::replace(&mut self.page, Content::new()));
            self.y = HEIGHT - MARGIN;
        }
    }

    fn text(&mut self, x: f32, y: f32, font: Name, size: f32, text: &str, rgb: (f32, f32, f32)) {
        let c = &mut self.page;
        c.set_fill_rgb(rgb.0, rgb.1, rgb.2);
        c.begin_text();
        c.set_font(font, size);
        c.next_line(x, y);
        c.show(Str(&win_ansi(text)));
        c.end_text();
    }

    /// A line of text at the cursor, which moves below it.
    fn line(&mut self, font: Name, size: f32, text: &str, rgb: (f32, f32, f32)) {
        self.room(size * 1.5);
        self.y -= size * 1.3;
        self.text(MARGIN, self.y, font, size, text, rgb);
        self.y -= size * 0.2;
    }

    fn finish(mut self) -> Vec<Content> {
        self.done.push(self.page);
        self.done
    }
}

const INK: (f32, f32, f32) = (0.1, 0.1, 0.1);
const GREY: (f32, f32, f32) = (0.45, 0.45, 0.45);

pub(crate) fn render(report: &Report) -> Vec<u8> {
    let mut pages = Pages::new();
    pages.line(BOLD, 20.0, &report.title, INK);
    pages.line(REGULAR, 11.0, &format!("Period: {}", report.period_label), GREY);
    let by = if report.by.is_empty() { String::new() } else { format!(" \u{2022} by {}", report.by.join(", ")) };
    let grain = report.grain.map_or("one value per KPI".to_string(), |g| format!("by {}", g.as_str()));
    pages.line(
        REGULAR,
        9.0,
        &format!(
            "Generated {} \u{2022} {grain}{by} \u{2022} {} KPIs",
            report.generated.format("%Y-%m-%d %H:%M UTC"),
            report.sections.len()
        ),
        GREY,
    );
    pages.y -= 8.0;
    for section in &report.sections {
        draw_section(&mut pages, report, section);
    }
    let contents = pages.finish();

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let (regular, bold, info) = (Ref::new(3), Ref::new(4), Ref::new(5));
    let first = 6;
    let page_ids: Vec<Ref> = (0..contents.len()).map(|i| Ref::new(first + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(page_ids.len() as i32);
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info).title(pdf_writer::TextStr(&report.title)).producer(pdf_writer::TextStr("KPI Engine"));
    let count = contents.len();
    for (i, content) in contents.into_iter().enumerate() {
        let (page_id, content_id) = (page_ids[i], Ref::new(first + 2 * i as i32 + 1));
        let mut content = content;
        // Page numbers at the foot.
        content.set_fill_rgb(GREY.0, GREY.1, GREY.2);
        content.begin_text();
        content.set_font(REGULAR, 8.0);
        content.next_line(WIDTH - MARGIN - 40.0, MARGIN / 2.0);
        content.show(Str(format!("Page {} of {count}", i + 1).as_bytes()));
        content.end_text();
        {
            // Each writer completes its object when dropped.
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT)).parent(tree).contents(content_id);
            page.resources().fonts().pair(REGULAR, regular).pair(BOLD, bold);
        }
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

fn draw_section(pages: &mut Pages, report: &Report, section: &Section) {
    pages.room(60.0);
    pages.y -= 6.0;
    pages.line(BOLD, 13.0, &format!("{} ({})", section.name, section.code), INK);
    let mut facts = vec![format!("unit: {}", section.unit)];
    if let Some(w) = section.thresholds.warning {
        facts.push(format!("warning at {}", number(w)));
    }
    if let Some(c) = section.thresholds.critical {
        facts.push(format!("critical at {}", number(c)));
    }
    if let Some(e) = &section.error {
        pages.line(REGULAR, 9.0, &facts.join(" \u{2022} "), GREY);
        for line in wrap(&format!("Could not be calculated: {e}"), 10.0, WIDTH - 2.0 * MARGIN) {
            pages.line(REGULAR, 10.0, &line, (0.75, 0.1, 0.1));
        }
        pages.y -= 8.0;
        return;
    }
    if let Some(latest) = section.rows.iter().rev().find(|r| r.value.is_some()) {
        facts.insert(
            0,
            format!(
                "latest: {} ({}, {})",
                number(latest.value.unwrap_or_default()),
                status_label(latest.status),
                report.period_text(latest.period)
            ),
        );
    }
    pages.line(REGULAR, 9.0, &facts.join(" \u{2022} "), GREY);
    if report.grain.is_some() && section.rows.iter().filter(|r| r.value.is_some()).count() >= 2 {
        draw_chart(pages, report, section);
    }
    draw_table(pages, report, section);
    pages.y -= 10.0;
}

/// The groups of a section in order of first appearance.
fn groups(rows: &[Row]) -> Vec<&[crate::result::DimensionValue]> {
    let mut out: Vec<&[crate::result::DimensionValue]> = Vec::new();
    for r in rows {
        if !out.contains(&r.group.as_slice()) {
            out.push(&r.group);
        }
    }
    out
}

fn draw_chart(pages: &mut Pages, report: &Report, section: &Section) {
    const CHART: f32 = 150.0;
    let all_groups = groups(&section.rows);
    let shown = &all_groups[..all_groups.len().min(CHART_GROUPS)];
    let legend = if shown.len() > 1 || !report.by.is_empty() { 14.0 } else { 0.0 };
    pages.room(CHART + 30.0 + legend);
    let mut periods: Vec<i64> = section.rows.iter().filter_map(|r| r.period.map(|p| p.timestamp())).collect();
    periods.sort_unstable();
    periods.dedup();
    let values: Vec<f64> = section.rows.iter().filter_map(|r| r.value).filter(|v| v.is_finite()).collect();
    let (mut lo, mut hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let span = (hi - lo).max(hi.abs() * 0.1).max(1e-9);
    let thresholds: Vec<(f64, (f32, f32, f32))> =
        [(section.thresholds.warning, (0.95, 0.6, 0.1)), (section.thresholds.critical, (0.85, 0.15, 0.15))]
            .into_iter()
            .filter_map(|(t, c)| Some((t?, c)))
            .filter(|(t, _)| *t >= lo - span && *t <= hi + span)
            .collect();
    for (t, _) in &thresholds {
        lo = lo.min(*t);
        hi = hi.max(*t);
    }
    if hi - lo < 1e-12 {
        lo -= span / 2.0;
        hi += span / 2.0;
    }
    let (left, right) = (MARGIN + 52.0, WIDTH - MARGIN);
    let top = pages.y - 8.0;
    let bottom = top - CHART;
    let x_of = |t: i64| {
        let i = periods.binary_search(&t).unwrap_or(0) as f32;
        left + if periods.len() > 1 { i / (periods.len() - 1) as f32 * (right - left) } else { (right - left) / 2.0 }
    };
    let y_of = |v: f64| bottom + ((v - lo) / (hi - lo)) as f32 * CHART;
    let c = &mut pages.page;
    // Axes and grid.
    c.set_line_width(0.5);
    c.set_stroke_rgb(0.8, 0.8, 0.8);
    for k in 0..=4 {
        let y = bottom + CHART * k as f32 / 4.0;
        c.move_to(left, y);
        c.line_to(right, y);
    }
    c.stroke();
    c.set_stroke_rgb(0.3, 0.3, 0.3);
    c.move_to(left, top);
    c.line_to(left, bottom);
    c.line_to(right, bottom);
    c.stroke();
    for (t, rgb) in &thresholds {
        c.set_stroke_rgb(rgb.0, rgb.1, rgb.2);
        c.set_line_width(1.0);
        c.set_dash_pattern([4.0, 3.0], 0.0);
        c.move_to(left, y_of(*t));
        c.line_to(right, y_of(*t));
        c.stroke();
    }
    c.set_dash_pattern([], 0.0);
    for (g, group) in shown.iter().enumerate() {
        let (r, gr, b) = PALETTE[g];
        let c = &mut pages.page;
        c.set_stroke_rgb(r, gr, b);
        c.set_line_width(1.4);
        let mut drawing = false;
        for row in section.rows.iter().filter(|row| row.group.as_slice() == *group) {
            match (row.period, row.value.filter(|v| v.is_finite())) {
                (Some(p), Some(v)) => {
                    let (x, y) = (x_of(p.timestamp()), y_of(v));
                    if drawing {
                        c.line_to(x, y);
                    } else {
                        c.move_to(x, y);
                        drawing = true;
                    }
                }
                // A period without a value breaks the line.
                _ => drawing = false,
            }
        }
        c.stroke();
    }
    for k in 0..=2 {
        let v = lo + (hi - lo) * f64::from(k) / 2.0;
        let label = number(v);
        let y = bottom + CHART * k as f32 / 2.0 - 3.0;
        pages.text(left - 6.0 - text_width(&label, 8.0, false), y, REGULAR, 8.0, &label, GREY);
    }
    let at = |i: usize| periods.get(i).and_then(|t| chrono::DateTime::from_timestamp(*t, 0));
    let ends = [(0, left), (periods.len().saturating_sub(1), right)];
    for (i, x) in ends {
        let label = report.period_text(at(i));
        let x = if x == right { x - text_width(&label, 8.0, false) } else { x };
        pages.text(x, bottom - 11.0, REGULAR, 8.0, &label, GREY);
    }
    pages.y = bottom - 16.0;
    if legend > 0.0 {
        let mut x = left;
        for (g, group) in shown.iter().enumerate() {
            let label = fit(&group.iter().map(ToString::to_string).collect::<Vec<_>>().join(" / "), 8.0, 110.0);
            let (r, gr, b) = PALETTE[g];
            pages.page.set_fill_rgb(r, gr, b);
            pages.page.rect(x, pages.y - 7.0, 8.0, 8.0);
            pages.page.fill_nonzero();
            pages.text(x + 11.0, pages.y - 6.0, REGULAR, 8.0, &label, INK);
            x += 11.0 + text_width(&label, 8.0, false) + 14.0;
        }
        if all_groups.len() > shown.len() {
            pages.text(x, pages.y - 6.0, REGULAR, 8.0, &format!("({} of {} groups shown)", shown.len(), all_groups.len()), GREY);
        }
        pages.y -= legend;
    }
}

fn draw_table(pages: &mut Pages, report: &Report, section: &Section) {
    const ROW: f32 = 14.0;
    let dims = report.by.len();
    let inner = WIDTH - 2.0 * MARGIN;
    let (period_w, value_w, status_w) = (90.0, 90.0, 70.0);
    // Cells start 4 points in; the status cell ends at the right margin.
    let dim_w = if dims > 0 { (inner - 4.0 - period_w - value_w - status_w) / dims as f32 } else { 0.0 };
    let header = |pages: &mut Pages| {
        pages.room(ROW * 2.0);
        let y = pages.y - ROW;
        pages.page.set_fill_rgb(0.93, 0.93, 0.95);
        pages.page.rect(MARGIN, y - 4.0, inner, ROW);
        pages.page.fill_nonzero();
        let mut x = MARGIN + 4.0;
        pages.text(x, y, BOLD, 8.5, "Period", INK);
        x += period_w;
        for d in &report.by {
            pages.text(x, y, BOLD, 8.5, &fit(d, 8.5, dim_w - 6.0), INK);
            x += dim_w;
        }
        pages.text(x + value_w - 8.0 - text_width("Value", 8.5, true), y, BOLD, 8.5, "Value", INK);
        pages.text(x + value_w + 4.0, y, BOLD, 8.5, "Status", INK);
        pages.y = y - 4.0;
    };
    header(pages);
    let shown = &section.rows[section.rows.len().saturating_sub(TABLE_ROWS)..];
    for row in shown {
        if pages.y - ROW < MARGIN {
            pages.room(ROW * 2.0);
            header(pages);
        }
        let y = pages.y - ROW + 4.0;
        let mut x = MARGIN + 4.0;
        pages.text(x, y, REGULAR, 8.5, &report.period_text(row.period), INK);
        x += period_w;
        for g in &row.group {
            pages.text(x, y, REGULAR, 8.5, &fit(&g.to_string(), 8.5, dim_w - 6.0), INK);
            x += dim_w;
        }
        let value = row.value.map_or("–".to_string(), number);
        pages.text(x + value_w - 8.0 - text_width(&value, 8.5, false), y, REGULAR, 8.5, &value, INK);
        let (r, g, b) = status_colour(row.status);
        pages.page.set_fill_rgb(r, g, b);
        pages.page.rect(x + value_w, y - 3.5, status_w, ROW - 1.0);
        pages.page.fill_nonzero();
        pages.text(x + value_w + 4.0, y, REGULAR, 8.5, status_label(row.status), INK);
        pages.page.set_stroke_rgb(0.9, 0.9, 0.9);
        pages.page.set_line_width(0.4);
        pages.page.move_to(MARGIN, y - 4.0);
        pages.page.line_to(MARGIN + inner, y - 4.0);
        pages.page.stroke();
        pages.y -= ROW;
    }
    if section.rows.len() > shown.len() {
        pages.line(
            REGULAR,
            8.0,
            &format!("The last {} of {} rows; the CSV and JSON formats have every row.", shown.len(), section.rows.len()),
            GREY,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(number(1234567.891), "1,234,568");
        assert_eq!(number(-1234.6), "-1,235");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(0.91234), "0.9123");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-0.00001), "0");
        assert_eq!(number(f64::NAN), "–");
    }

    #[test]
    fn text_is_written_in_win_ansi() {
        assert_eq!(win_ansi("a – b €"), b"a \x96 b \x80");
        assert_eq!(win_ansi("Zürich"), b"Z\xfcrich");
        assert_eq!(win_ansi("東京"), b"??");
        assert!(fit("a very long dimension value indeed", 8.0, 40.0).ends_with('\u{2026}'));
        let lines = wrap("one two three four five six", 10.0, 50.0);
        assert!(lines.len() >= 3 && lines.iter().all(|l| text_width(l, 10.0, false) <= 50.0), "{lines:?}");
        assert_eq!(lines.join(" "), "one two three four five six");
    }
}
