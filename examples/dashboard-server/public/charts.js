'use strict'
// The page's charts: line and bar charts of a card's periods through Chart.js (vendored from
// npm, no build step) with the KPI's threshold bands, and small SVG drawings for the views
// Chart.js is not needed for (gauge, sparkline, pie).

/* global el, format, PALETTE */
/* exported svg, plot */

/**
 * A chart of `points` (`{ value, period?, color? }`) in `unit`: line, bar, gauge, sparkline or
 * pie. Line and bar charts of periods are labelled with their largest value and their first
 * and last periods; sparklines are bare.
 */
function svg(kind, points, unit, width = 320, height = 120) {
  const ns = 'http://www.w3.org/2000/svg'
  const root = document.createElementNS(ns, 'svg')
  root.setAttribute('viewBox', `0 0 ${width} ${height}`)
  const values = points.map((p) => p.value ?? 0)
  const max = Math.max(1e-9, ...values)
  const labelled = (kind === 'line' || kind === 'bar') && points.length > 0 && points[0].period !== undefined
  const [top, bottom] = labelled ? [14, 16] : [10, 5]
  const x = (i) => (points.length <= 1 ? width / 2 : (i / (points.length - 1)) * (width - 10) + 5)
  const y = (v) => height - bottom - (v / max) * (height - top - bottom)
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag)
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
    if (text !== undefined) node.textContent = text
    root.append(node)
  }
  if (labelled) {
    const when = (p) => p.period.slice(5, 16).replace('T', ' ')
    add('text', { x: 4, y: 10, class: 'axis' }, format(max, unit))
    add('text', { x: 4, y: height - 2, class: 'axis' }, when(points[0]))
    if (points.length > 1) add('text', { x: width - 4, y: height - 2, class: 'axis', 'text-anchor': 'end' }, when(points[points.length - 1]))
  }
  if (kind === 'pie') {
    const total = values.reduce((a, v) => a + Math.max(0, v), 0) || 1
    root.setAttribute('viewBox', `0 0 ${height} ${height}`)
    const [cx, cy, r] = [height / 2, height / 2, height / 2 - 5]
    let angle = -Math.PI / 2
    values.forEach((v, i) => {
      const sweep = (Math.max(0, v) / total) * 2 * Math.PI
      const [x0, y0] = [cx + r * Math.cos(angle), cy + r * Math.sin(angle)]
      angle += sweep
      const [x1, y1] = [cx + r * Math.cos(angle), cy + r * Math.sin(angle)]
      const fill = PALETTE[i % PALETTE.length]
      if (sweep >= 2 * Math.PI - 1e-9) add('circle', { cx, cy, r, fill })
      else add('path', { d: `M ${cx} ${cy} L ${x0} ${y0} A ${r} ${r} 0 ${sweep > Math.PI ? 1 : 0} 1 ${x1} ${y1} Z`, fill })
    })
    return root
  }
  if (kind === 'bar') {
    const w = Math.max(1, (width - 10) / Math.max(1, points.length) - 2)
    values.forEach((v, i) => add('rect', { x: 5 + i * (w + 2), y: y(v), width: w, height: height - bottom - y(v), fill: points[i].color || '#4ea1ff' }))
  } else if (kind === 'gauge') {
    const last = values[values.length - 1] ?? 0
    const angle = Math.PI * Math.min(1, last / max)
    const [cx, cy, r] = [width / 2, height - 10, height - 25]
    add('path', { d: `M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${cx + r} ${cy}`, stroke: '#e3e7ee', 'stroke-width': 14, fill: 'none' })
    add('path', { d: `M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${cx - r * Math.cos(angle)} ${cy - r * Math.sin(angle)}`, stroke: '#4ea1ff', 'stroke-width': 14, fill: 'none' })
    add('text', { x: cx - r, y: height - 1, class: 'axis', 'text-anchor': 'middle' }, format(0, unit))
    add('text', { x: cx + r, y: height - 1, class: 'axis', 'text-anchor': 'middle' }, format(max, unit))
  } else {
    const line = values.map((v, i) => `${x(i)},${y(v)}`).join(' ')
    add('polyline', { points: line, fill: 'none', stroke: '#4ea1ff', 'stroke-width': kind === 'sparkline' ? 1.5 : 2.5 })
  }
  return root
}

/** Threshold bands of a KPI (`thresholds` and `direction` from the catalog) for a chart: the
 *  critical and warning ranges shaded, the target as a line. */
const thresholdBands = {
  id: 'thresholdBands',
  beforeDatasetsDraw(chart, args, options) {
    const t = options.thresholds
    if (!t) return
    const { ctx, chartArea: area, scales: { y } } = chart
    const at = (v) => Math.min(area.bottom, Math.max(area.top, y.getPixelForValue(v)))
    const lower = options.direction === 'lower_is_better'
    const band = (from, to, color) => {
      if (from === undefined || to === undefined) return
      const [a, b] = [at(from), at(to)]
      ctx.fillStyle = color
      ctx.fillRect(area.left, Math.min(a, b), area.right - area.left, Math.abs(a - b))
    }
    ctx.save()
    // Beyond critical is red, between critical and warning amber.
    band(lower ? t.critical : y.min, lower ? y.max : t.critical, 'rgba(192, 57, 43, 0.12)')
    band(t.critical, t.warning, 'rgba(224, 168, 0, 0.14)')
    if (t.target !== undefined) {
      ctx.strokeStyle = 'rgba(31, 139, 76, 0.8)'
      ctx.setLineDash([4, 4])
      ctx.beginPath()
      ctx.moveTo(area.left, at(t.target))
      ctx.lineTo(area.right, at(t.target))
      ctx.stroke()
    }
    ctx.restore()
  },
}

/** A line or bar chart of the card's periods (Chart.js): axes, tooltips with the KPI's unit,
 *  and its threshold bands. Updated in place while values stream in. */
function plot(card, points) {
  const labels = points.map((p) => p.period.slice(0, 16).replace('T', ' '))
  const values = points.map((p) => p.value)
  if (card.plot && card.plot.config.type === card.view && card.chart.contains(card.plot.canvas)) {
    card.plot.data.labels = labels
    card.plot.data.datasets[0].data = values
    card.plot.update('none')
    return
  }
  card.plot?.destroy()
  const canvas = el('canvas', { class: 'plot', height: '160' })
  card.chart.replaceChildren(canvas)
  const thresholds = card.kpi.thresholds
  card.plot = new window.Chart(canvas, {
    type: card.view,
    data: { labels, datasets: [{ label: card.kpi.name, data: values, borderColor: '#4ea1ff', backgroundColor: card.view === 'bar' ? '#4ea1ff' : 'rgba(78, 161, 255, 0.15)', pointRadius: 0, tension: 0.2 }] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { ticks: { maxTicksLimit: 4, font: { size: 9 } } },
        y: {
          ticks: { maxTicksLimit: 4, font: { size: 9 }, callback: (v) => format(v, card.unit) },
          ...(thresholds ? { suggestedMin: Math.min(...Object.values(thresholds)), suggestedMax: Math.max(...Object.values(thresholds)) } : {}),
        },
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item) => `${card.kpi.name}: ${format(item.parsed.y, card.unit)}` } },
        thresholdBands: { thresholds, direction: card.kpi.direction },
      },
    },
    plugins: [thresholdBands],
  })
}

