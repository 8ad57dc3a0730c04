'use strict'
// The dashboard page: a live dashboard over WebSockets, a catalog browser, and a proposal
// builder, all on the server's JSON API. No build step and no framework.

const params = new URLSearchParams(location.search)
const token = params.get('token')
const DASHBOARD_KPIS = ['revenue', 'perfect_order_rate', 'on_time_delivery_rate', 'average_order_value', 'new_customers']
const VIEWS = ['line', 'bar', 'gauge', 'sparkline', 'table', 'breakdown', 'forecast', 'compare']
/** Seconds in each streamed period, for the end of a breakdown's period. */
const PERIOD_SECONDS = { minute: 60, hour: 3600, day: 86400 }
/** Units whose values add up across groups, so a breakdown is a pie; others get bars. */
const ADDITIVE = new Set(['currency', 'count'])
const PALETTE = ['#4ea1ff', '#f4a259', '#5bba6f', '#e15b64', '#a97fd8', '#3fc1c9', '#c9a227', '#8d99ae']

async function api(path, body, method = 'POST') {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(path, body === undefined ? { headers } : { method, headers, body: JSON.stringify(body) })
  const json = await res.json()
  if (!res.ok) throw new Error(json.error ? `${json.error.code}: ${json.error.message}` : res.statusText)
  return json
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v)
    else node.setAttribute(k, v)
  }
  for (const c of children) node.append(c)
  return node
}

function format(value, unit) {
  if (value === null || value === undefined) return '—'
  if (unit === 'ratio') return `${(value * 100).toLocaleString(undefined, { maximumFractionDigits: 1 })} %`
  const n = Math.abs(value) >= 1000 ? value.toLocaleString(undefined, { maximumFractionDigits: 0 }) : value.toLocaleString(undefined, { maximumFractionDigits: 2 })
  return unit === 'percent' ? `${n} %` : unit === 'currency' ? `$${n}` : n
}

// --- Tabs -----------------------------------------------------------------------------------

for (const button of document.querySelectorAll('nav button')) {
  button.addEventListener('click', () => {
    document.querySelectorAll('nav button').forEach((b) => b.classList.toggle('active', b === button))
    document.querySelectorAll('.tab').forEach((t) => t.classList.toggle('active', t.id === button.dataset.tab))
  })
}

// --- Live dashboard -------------------------------------------------------------------------

const cards = new Map()

function renderCard(card) {
  // Periods without a value (not yet reached, or without rows) are left out of the charts.
  const points = [...card.periods.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([period, u]) => ({ period, value: u.value, status: u.status }))
    .filter((p) => p.value !== null && p.value !== undefined)
  const last = points[points.length - 1]
  card.latest = last
  card.value.textContent = format(last?.value, card.unit)
  card.value.className = `value status-${last?.status ?? 'unknown'}`
  card.value.dataset.kpiValue = last?.value ?? ''
  if (card.view === 'breakdown') return renderBreakdown(card)
  if (card.view === 'forecast') return renderForecast(card)
  if (card.view === 'compare') return renderCompare(card)
  if (card.view === 'line' || card.view === 'bar') return plot(card, points.slice(-60))
  card.plot?.destroy()
  card.plot = null
  card.chart.replaceChildren()
  if (card.view === 'table') {
    const rows = points.slice(-10).reverse().map((p) => el('tr', {}, el('td', {}, p.period.slice(0, 16).replace('T', ' ')), el('td', {}, format(p.value, card.unit))))
    card.chart.append(el('table', {}, el('tr', {}, el('th', {}, 'period'), el('th', {}, 'value')), ...rows))
  } else {
    card.chart.append(svg(card.view, card.view === 'sparkline' ? points.slice(-20) : points.slice(-60), card.unit))
  }
}

/** Draws a card's view from `path`'s answer, fetched at most every 30 seconds while values stream in. */
function refreshed(card, name, path, body, draw) {
  const cached = card[name]
  if (cached && Date.now() - cached.at < 30000) {
    if (cached.data) draw(cached.data)
    return
  }
  if (!cached) card.chart.replaceChildren(el('p', { class: 'note' }, 'loading…'))
  card[name] = { at: Date.now(), data: cached?.data }
  api(path, body)
    .then((data) => {
      card[name] = { at: Date.now(), data }
      if (card.view === name) draw(data)
    })
    .catch((e) => card.view === name && card.chart.replaceChildren(el('p', { class: 'error' }, e.message)))
}

/**
 * The KPI by day with the engine's forecast of the next week: the history as a line, the
 * forecast dashed, and its 95% prediction interval as a band.
 */
function renderForecast(card) {
  refreshed(card, 'forecast', `/kpis/${card.code}/forecast?grain=day&horizon=7`, undefined, (doc) => {
    const group = doc.groups[0]
    if (!group) return card.chart.replaceChildren(el('p', { class: 'note' }, 'Too little history to forecast.'))
    const history = group.history.filter((h) => h.value !== null).slice(-28)
    const ahead = group.forecast
    const ns = 'http://www.w3.org/2000/svg'
    const [width, height, top, bottom] = [320, 120, 14, 16]
    const all = [...history.map((h) => h.value), ...ahead.map((f) => f.upper), ...ahead.map((f) => f.lower)]
    const [lo, hi] = [Math.min(0, ...all), Math.max(1e-9, ...all)]
    const n = history.length + ahead.length
    const x = (i) => (n <= 1 ? width / 2 : (i / (n - 1)) * (width - 10) + 5)
    const y = (v) => height - bottom - ((v - lo) / (hi - lo || 1)) * (height - top - bottom)
    const root = document.createElementNS(ns, 'svg')
    root.setAttribute('viewBox', `0 0 ${width} ${height}`)
    root.classList.add('forecast')
    const add = (tag, attrs, text) => {
      const node = document.createElementNS(ns, tag)
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
      if (text !== undefined) node.textContent = text
      root.append(node)
    }
    const at = (i, v) => `${x(i)},${y(v)}`
    const first = history.length
    const band = [...ahead.map((f, i) => at(first + i, f.upper)), ...ahead.map((f, i) => at(first + i, f.lower)).reverse()]
    add('polygon', { points: band.join(' '), class: 'band', fill: '#4ea1ff', 'fill-opacity': 0.18 })
    add('polyline', { points: history.map((h, i) => at(i, h.value)).join(' '), fill: 'none', stroke: '#4ea1ff', 'stroke-width': 2.5 })
    const join = history.length ? [at(first - 1, history[history.length - 1].value)] : []
    add('polyline', { points: [...join, ...ahead.map((f, i) => at(first + i, f.value))].join(' '), fill: 'none', stroke: '#4ea1ff', 'stroke-width': 2, 'stroke-dasharray': '4 3', class: 'predicted' })
    add('text', { x: 4, y: 10, class: 'axis' }, format(hi, card.unit))
    add('text', { x: width - 4, y: 10, class: 'axis', 'text-anchor': 'end' }, group.model)
    const next = ahead[0]
    card.chart.replaceChildren(root, el('p', { class: 'note' }, `next day ${format(next.value, card.unit)} (${format(next.lower, card.unit)} – ${format(next.upper, card.unit)}, 95%)`))
  })
}

/** The last 7 days against the 7 before, and against the same days last year. */
function renderCompare(card) {
  const end = new Date()
  const start = new Date(end.getTime() - 7 * 86400e3)
  const iso = (d) => d.toISOString().slice(0, 19)
  refreshed(card, 'compare', '/compare', { kpi: card.code, current: [iso(start), iso(end)] }, (doc) => {
    const row = doc.rows[0]
    if (!row) return card.chart.replaceChildren(el('p', { class: 'note' }, 'No values in the last 7 days.'))
    const change = row.trend.change_pct
    const verdict = row.trend.improving === true ? 'improving' : row.trend.improving === false ? 'worsening' : 'stable'
    const text = change === null || change === undefined ? '—' : `${change > 0 ? '+' : ''}${change.toFixed(1)} %`
    card.chart.replaceChildren(el('table', { class: 'compare' },
      el('tr', {}, el('th', {}, 'last 7 days'), el('th', {}, '7 days before'), el('th', {}, 'change')),
      el('tr', {}, el('td', {}, format(row.current, card.unit)), el('td', {}, format(row.previous, card.unit)), el('td', { class: `change ${verdict}` }, text))))
  })
}

/**
 * Drill-down: the KPI's latest period split by one of its dimensions, as a pie for additive
 * units and bars otherwise. Recalculated at most every five seconds while values stream in.
 */
function renderBreakdown(card) {
  const by = card.dimension || card.dimensions[0]
  if (!by) {
    card.chart.replaceChildren(el('p', { class: 'note' }, 'This KPI has no dimensions to break down by.'))
    return
  }
  const period = document.getElementById('period').value
  const key = `${by}|${period}|${card.latest?.period}`
  if (card.breakdown?.key === key && Date.now() - card.breakdown.at < 5000) return
  if (card.breakdown?.key !== key) card.chart.replaceChildren(el('p', { class: 'note' }, 'loading…'))
  card.breakdown = { key, at: Date.now() }
  if (!card.latest?.period) return
  const start = new Date(card.latest.period)
  const end = new Date(start.getTime() + PERIOD_SECONDS[period] * 1000)
  const iso = (d) => d.toISOString().slice(0, 19)
  api('/calculate', { kpi: card.code, grain: period, by: [by], start: iso(start), end: iso(end) })
    .then((result) => {
      if (card.view !== 'breakdown') return
      const groups = result.rows.filter((r) => r.value !== null).map((r, i) => ({ label: String(r[by] ?? '(none)'), value: r.value, color: PALETTE[i % PALETTE.length] }))
      const select = el('select', { class: 'dimension', onchange: (e) => { card.dimension = e.target.value; card.breakdown = null; renderCard(card) } },
        ...card.dimensions.map((d) => el('option', d === by ? { value: d, selected: '' } : { value: d }, d)))
      const legend = el('ul', { class: 'legend' }, ...groups.map((g) => el('li', {}, el('span', { class: 'swatch', style: `background:${g.color}` }), `${g.label}: ${format(g.value, card.unit)}`)))
      if (groups.length === 0) return card.chart.replaceChildren(select, el('p', { class: 'note' }, 'No values in this period yet.'))
      const chart = svg(ADDITIVE.has(card.unit) ? 'pie' : 'bar', groups, card.unit)
      chart.classList.add('breakdown')
      card.chart.replaceChildren(select, el('div', { class: 'split' }, chart, legend))
    })
    .catch((e) => card.chart.replaceChildren(el('p', { class: 'error' }, e.message)))
}

/** The page's one WebSocket (live.js); created by startDashboard. */
let live = null
let subscriptionIds = 0

function setConnection(online) {
  const badge = document.getElementById('connection')
  badge.textContent = online ? 'live' : 'reconnecting'
  badge.className = `connection ${online ? 'online' : 'offline'}`
}

/** Applies a message of the card's subscription: updates, or the engine's refusal. */
function receive(card, message) {
  if (message.type === 'error') {
    card.error.textContent = message.error.message
    card.error.hidden = false
    return
  }
  if (message.type !== 'updates') return
  card.error.hidden = true
  let changed = false
  for (const u of message.updates) {
    if (u.kind === 'snapshot' || u.period) card.periods.set(u.period ?? '', u)
    if (u.kind !== 'snapshot') changed = true
  }
  if (changed) {
    card.element.dataset.live = String(Number(card.element.dataset.live || 0) + 1)
    // A brief highlight of the value, restarted on every update.
    card.value.classList.remove('updated')
    void card.value.offsetWidth
  }
  const now = new Date()
  document.getElementById('last-update').textContent = now.toLocaleTimeString()
  // Views update as data arrives; a new period (and its first value) starts at the boundary.
  const seconds = PERIOD_SECONDS[document.getElementById('period').value]
  const next = new Date(Math.ceil((now.getTime() + 1) / (seconds * 1000)) * seconds * 1000)
  card.updated.textContent = `updated ${now.toLocaleTimeString()} · on new data; next ${seconds === 86400 ? 'day' : 'period'} ${next.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`
  card.updated.dataset.next = next.toISOString()
  renderCard(card)
  if (changed) card.value.classList.add('updated')
}

/** Subscribes a card at the chosen period (when it is on screen; see startDashboard). */
function connect(card) {
  if (card.subscription) return
  const period = document.getElementById('period').value
  card.subscription = `${card.code}:${period}:${++subscriptionIds}`
  live.subscribe(card.subscription, { query: { kpi: card.code }, period }, (message) => receive(card, message))
}

/** Stops a card's subscription (off screen, removed, or the period changed). */
function disconnect(card) {
  if (!card.subscription) return
  live.unsubscribe(card.subscription)
  card.subscription = null
}

// --- Alerts ---------------------------------------------------------------------------------

/** Shows the active alerts: a banner with the count and the worst one, and each card's state. */
function showAlerts(active) {
  const banner = document.getElementById('alert-banner')
  const critical = active.filter((a) => a.level === 'critical').length
  banner.hidden = active.length === 0
  banner.className = `alert-banner ${critical ? 'critical' : 'warning'}`
  banner.dataset.count = String(active.length)
  if (active.length) {
    const worst = active[0]
    const more = active.length > 1 ? ` (+${active.length - 1} more)` : ''
    banner.replaceChildren(el('strong', {}, `${active.length} active alert${active.length > 1 ? 's' : ''}: `), `${worst.level} — ${worst.message}${more}`)
  }
  for (const card of cards.values()) {
    const mine = active.filter((a) => a.kpi === card.code)
    const level = mine.some((a) => a.level === 'critical') ? 'critical' : mine.length ? 'warning' : ''
    card.element.classList.toggle('alert-critical', level === 'critical')
    card.element.classList.toggle('alert-warning', level === 'warning')
    card.element.dataset.alert = level
    card.badge.hidden = !level
    card.badge.textContent = level ? `${level}: ${mine.length} group${mine.length > 1 ? 's' : ''}` : ''
    card.badge.title = mine.map((a) => a.message).join('\n')
  }
}

/** Follows the alerts on the page's socket: the active ones at once, then each change (users
 *  who may not see alerts get an error, and no banner). */
function watchAlerts() {
  live.subscribe('alerts', { alerts: true }, (message) => {
    if (message.type === 'alerts' || message.type === 'alert') showAlerts(message.active)
  })
}

/** The period chosen last time on this browser, if any. */
function rememberedPeriod() {
  try {
    return localStorage.getItem('kpi-engine.period')
  } catch {
    return null
  }
}

/** The caller's saved layout (KPIs, view per KPI, period), or null. */
async function savedLayout() {
  try {
    return (await api('/me')).layout
  } catch {
    return null
  }
}

/** Saves the layout for this user (the server keeps one per user). */
function saveLayout() {
  const layout = { kpis: [...cards.keys()], views: Object.fromEntries([...cards.values()].map((c) => [c.code, c.view])), period: document.getElementById('period').value }
  api('/me/layout', layout, 'PUT').catch((e) => console.warn(`layout not saved: ${e.message}`))
}

/** Cards subscribe while on screen only, and leave when scrolled away. */
const visibility = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const card = cards.get(entry.target.dataset.kpi)
    if (!card) continue
    card.visible = entry.isIntersecting
    if (entry.isIntersecting) connect(card)
    else disconnect(card)
  }
})

/** Adds the card of `kpi` (a catalog entry) showing `view`. */
function addCard(kpi, view = 'line') {
  const code = kpi.code
  const value = el('div', { class: 'value loading' }, 'loading…')
  const chart = el('div', { class: 'chart' })
  const error = el('p', { class: 'error', hidden: '' })
  const badge = el('span', { class: 'alert-badge', hidden: '' })
  const updated = el('span', { class: 'updated-at' }, 'waiting for data')
  const card = { code, kpi, unit: kpi.unit, dimensions: kpi.dimensions || [], periods: new Map(), view: VIEWS.includes(view) ? view : 'line', value, chart, error, badge, updated }
  const views = el('div', { class: 'views' }, ...VIEWS.map((v) => el('button', {
    class: v === card.view ? 'active' : '',
    onclick: (e) => {
      card.view = v
      e.target.parentElement.querySelectorAll('button').forEach((b) => b.classList.toggle('active', b === e.target))
      renderCard(card)
      saveLayout()
    },
  }, v)))
  card.element = el('div', { class: 'card', 'data-kpi': code }, el('h2', {}, kpi.name, badge), value, updated, error, views, chart)
  document.getElementById('cards').append(card.element)
  cards.set(code, card)
  visibility.observe(card.element)
}

function removeCard(code) {
  const card = cards.get(code)
  if (!card) return
  visibility.unobserve(card.element)
  disconnect(card)
  card.element.remove()
  cards.delete(code)
}

async function startDashboard() {
  const select = document.getElementById('period')
  const [kpis, layout] = await Promise.all([api('/kpis'), savedLayout()])
  const known = new Map(kpis.map((k) => [k.code, k]))
  const remembered = layout?.period ?? rememberedPeriod()
  if (remembered && PERIOD_SECONDS[remembered]) select.value = remembered
  live = new LiveSocket(token, setConnection)
  const chosen = (layout?.kpis ?? DASHBOARD_KPIS).filter((c) => known.has(c))
  for (const code of chosen) addCard(known.get(code), layout?.views?.[code])
  // The KPI picker: every KPI the caller may read; a change adds or removes its card.
  const picker = document.getElementById('picker-kpis')
  for (const kpi of kpis) {
    picker.append(el('label', {}, el('input', {
      type: 'checkbox', name: 'pick', value: kpi.code, ...(cards.has(kpi.code) ? { checked: '' } : {}),
      onchange: (e) => {
        if (e.target.checked) addCard(kpi)
        else removeCard(kpi.code)
        saveLayout()
      },
    }), ` ${kpi.name}`))
  }
  watchAlerts()
  select.addEventListener('change', () => {
    try {
      localStorage.setItem('kpi-engine.period', select.value)
    } catch {
      // Storage may be off (private windows); the choice then lasts for this page only.
    }
    saveLayout()
    for (const card of cards.values()) {
      disconnect(card)
      card.periods.clear()
      card.breakdown = null
      card.value.textContent = 'loading…'
      card.value.classList.add('loading')
      if (card.visible) connect(card)
    }
  })
}

// --- Catalog --------------------------------------------------------------------------------

let diagrams = 0

async function showKpi(kpi) {
  const detail = document.getElementById('kpi-detail')
  detail.replaceChildren(el('h2', {}, kpi.name), el('p', {}, kpi.description || ''), el('p', {}, 'Formula: ', el('code', {}, kpi.formula)),
    el('p', {}, `Unit: ${kpi.unit ?? '—'} · grain: ${kpi.default_grain ?? '—'} · direction: ${kpi.direction ?? '—'}`))
  if (kpi.dimensions?.length) detail.append(el('p', {}, `Dimensions: ${kpi.dimensions.join(', ')}`))
  const checkbox = document.querySelector(`input[name="kpi"][value="${kpi.code}"]`)
  const add = el('button', {
    class: 'add-to-proposal',
    onclick: () => {
      if (checkbox) checkbox.checked = true
      add.textContent = 'In the proposal ✓'
      updateProposalCount()
      document.dispatchEvent(new Event('proposal-kpis-changed'))
    },
  }, checkbox?.checked ? 'In the proposal ✓' : 'Add to proposal')
  detail.append(add)
  const needed = await api('/analysis/required-objects', { kpis: [kpi.code] })
  detail.append(el('p', {}, `Required object models: ${needed.object_models.join(', ')}`))
  for (const model of needed.object_models) {
    const info = await api(`/object-models/${model}`)
    const box = el('div', { class: 'mermaid-diagram' })
    detail.append(el('h3', {}, `Object model: ${info.name ?? model}`), box)
    try {
      const { svg: drawn } = await window.mermaid.render(`diagram-${++diagrams}`, info.diagram)
      box.innerHTML = drawn
    } catch {
      box.append(el('pre', {}, info.diagram))
    }
  }
}

async function startCatalog() {
  const [chains, modules, kpis] = await Promise.all([api('/value-chains'), api('/modules'), api('/kpis')])
  const tree = document.getElementById('tree')
  for (const chain of chains) {
    const chainNode = el('details', { open: '' }, el('summary', {}, chain.name))
    for (const module of modules.filter((m) => m.value_chain === chain.code)) {
      const moduleNode = el('details', {}, el('summary', {}, module.name))
      for (const kpi of kpis.filter((k) => k.module === module.code)) {
        moduleNode.append(el('a', { 'data-kpi': kpi.code, onclick: () => showKpi(kpi) }, kpi.name))
      }
      chainNode.append(moduleNode)
    }
    tree.append(chainNode)
  }
}

// --- Proposal builder -----------------------------------------------------------------------

function markdown(text) {
  const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const inline = (s) => escape(s).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
  const out = []
  let table = null
  for (const line of text.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim())
      if (cells.every((c) => /^:?-+:?$/.test(c))) continue
      if (!table) {
        table = []
        out.push(table)
      }
      table.push(cells)
      continue
    }
    table = null
    const heading = /^(#{1,4}) (.*)$/.exec(line)
    if (heading) out.push(`<h${heading[1].length}>${inline(heading[2])}</h${heading[1].length}>`)
    else if (line.startsWith('- ')) out.push(`<li>${inline(line.slice(2))}</li>`)
    else if (line.trim()) out.push(`<p>${inline(line)}</p>`)
  }
  return out.map((part) => Array.isArray(part)
    ? `<table>${part.map((r, i) => `<tr>${r.map((c) => (i === 0 ? `<th>${inline(c)}</th>` : `<td>${inline(c)}</td>`)).join('')}</tr>`).join('')}</table>`
    : part).join('\n')
}

/** Shows how many KPIs the proposal has (the catalog's "Add to proposal" adds to it). */
function updateProposalCount() {
  const n = document.querySelectorAll('input[name="kpi"]:checked').length
  document.getElementById('proposal-count').textContent = n === 1 ? '1 KPI' : `${n} KPIs`
}

async function startProposal() {
  const kpis = await api('/kpis')
  const box = document.getElementById('proposal-kpis')
  for (const kpi of kpis) {
    box.append(el('label', {}, el('input', { type: 'checkbox', name: 'kpi', value: kpi.code }), ` ${kpi.name}`))
  }
  const builder = new ProposalBuilder(document.getElementById('questions'), kpis)
  await builder.start()
  // The chosen KPIs decide the object models (step 3) and KPIs (step 4) asked about.
  let asked = 0
  const chosen = () => [...document.querySelectorAll('input[name="kpi"]:checked')].map((c) => c.value)
  const rerender = async () => {
    const kpis = chosen()
    const mine = ++asked
    const models = kpis.length ? (await api('/analysis/required-objects', { kpis })).object_models : []
    if (mine === asked) builder.render(kpis, models)
  }
  box.addEventListener('change', () => {
    updateProposalCount()
    rerender().catch((e) => console.error(e))
  })
  document.addEventListener('proposal-kpis-changed', () => rerender().catch((e) => console.error(e)))
  document.getElementById('proposal-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const error = document.getElementById('proposal-error')
    try {
      const { markdown: text } = await api('/proposals', { kpis: chosen(), answers: builder.answers() })
      error.hidden = true
      document.getElementById('proposal-output').innerHTML = markdown(text)
    } catch (e) {
      error.hidden = false
      error.textContent = e.message
    }
  })
}

window.mermaid?.initialize({ startOnLoad: false })
startDashboard().catch((e) => console.error(e))
startCatalog().catch((e) => console.error(e))
startProposal().catch((e) => console.error(e))
