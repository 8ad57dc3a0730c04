'use strict'
// The dashboard page: a live dashboard over WebSockets, a catalog browser, and a proposal
// builder, all on the server's JSON API. No build step and no framework.

const params = new URLSearchParams(location.search)
const token = params.get('token')
const DASHBOARD_KPIS = ['revenue', 'perfect_order_rate', 'on_time_delivery_rate', 'average_order_value', 'new_customers']
const VIEWS = ['line', 'bar', 'gauge', 'sparkline', 'table']

async function api(path, body) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(path, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) })
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

function svg(kind, points, width = 320, height = 120) {
  const ns = 'http://www.w3.org/2000/svg'
  const root = document.createElementNS(ns, 'svg')
  root.setAttribute('viewBox', `0 0 ${width} ${height}`)
  const values = points.map((p) => p.value ?? 0)
  const max = Math.max(1e-9, ...values)
  const x = (i) => (points.length <= 1 ? width / 2 : (i / (points.length - 1)) * (width - 10) + 5)
  const y = (v) => height - 5 - (v / max) * (height - 15)
  const add = (tag, attrs) => {
    const node = document.createElementNS(ns, tag)
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
    root.append(node)
  }
  if (kind === 'bar') {
    const w = Math.max(1, (width - 10) / Math.max(1, points.length) - 2)
    values.forEach((v, i) => add('rect', { x: 5 + i * (w + 2), y: y(v), width: w, height: height - 5 - y(v), fill: '#4ea1ff' }))
  } else if (kind === 'gauge') {
    const last = values[values.length - 1] ?? 0
    const angle = Math.PI * Math.min(1, last / max)
    const [cx, cy, r] = [width / 2, height - 10, height - 25]
    add('path', { d: `M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${cx + r} ${cy}`, stroke: '#e3e7ee', 'stroke-width': 14, fill: 'none' })
    add('path', { d: `M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${cx - r * Math.cos(angle)} ${cy - r * Math.sin(angle)}`, stroke: '#4ea1ff', 'stroke-width': 14, fill: 'none' })
  } else {
    const line = values.map((v, i) => `${x(i)},${y(v)}`).join(' ')
    add('polyline', { points: line, fill: 'none', stroke: '#4ea1ff', 'stroke-width': kind === 'sparkline' ? 1.5 : 2.5 })
    if (kind === 'sparkline') root.setAttribute('viewBox', `0 0 ${width} ${height}`) // same shape, thinner line
  }
  return root
}

function renderCard(card) {
  // Periods without a value (not yet reached, or without rows) are left out of the charts.
  const points = [...card.periods.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([period, u]) => ({ period, value: u.value, status: u.status }))
    .filter((p) => p.value !== null && p.value !== undefined)
  const last = points[points.length - 1]
  card.value.textContent = format(last?.value, card.unit)
  card.value.className = `value status-${last?.status ?? 'unknown'}`
  card.value.dataset.kpiValue = last?.value ?? ''
  card.chart.replaceChildren()
  if (card.view === 'table') {
    const rows = points.slice(-10).reverse().map((p) => el('tr', {}, el('td', {}, p.period.slice(0, 16).replace('T', ' ')), el('td', {}, format(p.value, card.unit))))
    card.chart.append(el('table', {}, el('tr', {}, el('th', {}, 'period'), el('th', {}, 'value')), ...rows))
  } else {
    card.chart.append(svg(card.view, card.view === 'sparkline' ? points.slice(-20) : points.slice(-60)))
  }
}

function setConnection() {
  const all = [...cards.values()]
  const online = all.length > 0 && all.every((c) => c.socket && c.socket.readyState === WebSocket.OPEN)
  const badge = document.getElementById('connection')
  badge.textContent = online ? 'live' : 'reconnecting'
  badge.className = `connection ${online ? 'online' : 'offline'}`
}

function connect(card) {
  const period = document.getElementById('period').value
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/kpi/${card.code}?period=${period}${token ? `&token=${encodeURIComponent(token)}` : ''}`
  const socket = new WebSocket(url)
  card.socket = socket
  socket.onopen = () => {
    card.retry = 500
    setConnection()
  }
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data)
    if (message.type !== 'updates') return
    for (const u of message.updates) {
      if (u.kind === 'snapshot' || u.period) card.periods.set(u.period ?? '', u)
      if (u.kind !== 'snapshot') card.element.dataset.live = String(Number(card.element.dataset.live || 0) + 1)
    }
    document.getElementById('last-update').textContent = new Date().toLocaleTimeString()
    renderCard(card)
  }
  socket.onclose = () => {
    setConnection()
    if (card.socket !== socket) return
    // Auto-reconnect with backoff, up to 10 s.
    setTimeout(() => card.socket === socket && connect(card), card.retry)
    card.retry = Math.min(10000, card.retry * 2)
  }
}

async function startDashboard() {
  const known = new Map((await api('/kpis')).map((k) => [k.code, k]))
  const container = document.getElementById('cards')
  for (const code of DASHBOARD_KPIS.filter((c) => known.has(c))) {
    const kpi = known.get(code)
    const value = el('div', { class: 'value' }, '—')
    const chart = el('div', { class: 'chart' })
    const card = { code, unit: kpi.unit, periods: new Map(), view: 'line', retry: 500, value, chart }
    const views = el('div', { class: 'views' }, ...VIEWS.map((v) => el('button', {
      class: v === 'line' ? 'active' : '',
      onclick: (e) => {
        card.view = v
        e.target.parentElement.querySelectorAll('button').forEach((b) => b.classList.toggle('active', b === e.target))
        renderCard(card)
      },
    }, v)))
    card.element = el('div', { class: 'card', 'data-kpi': code }, el('h2', {}, kpi.name), value, views, chart)
    container.append(card.element)
    cards.set(code, card)
    connect(card)
  }
  document.getElementById('period').addEventListener('change', () => {
    for (const card of cards.values()) {
      const old = card.socket
      card.socket = null
      old?.close()
      card.periods.clear()
      connect(card)
    }
  })
}

// --- Catalog --------------------------------------------------------------------------------

let diagrams = 0

async function showKpi(kpi) {
  const detail = document.getElementById('kpi-detail')
  detail.replaceChildren(el('h2', {}, kpi.name), el('p', {}, kpi.description || ''), el('p', {}, 'Formula: ', el('code', {}, kpi.formula)),
    el('p', {}, `Unit: ${kpi.unit ?? '—'} · grain: ${kpi.default_grain ?? '—'} · direction: ${kpi.direction ?? '—'}`))
  const needed = await api('/analysis/required-objects', { kpis: [kpi.code] })
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

async function startProposal() {
  const kpis = await api('/kpis')
  const box = document.getElementById('proposal-kpis')
  for (const kpi of kpis) {
    box.append(el('label', {}, el('input', { type: 'checkbox', name: 'kpi', value: kpi.code }), ` ${kpi.name}`))
  }
  const select = (name, options) => el('select', { name }, ...options.map(([v, t]) => el('option', { value: v }, t)))
  document.getElementById('questions').append(
    el('label', {}, 'Client name ', el('input', { name: 'client_name', value: 'Acme Retail' })),
    el('label', {}, 'Licence term ', select('license_term', [['1', '1 year'], ['3', '3 years'], ['5', '5 years']])),
    el('label', {}, 'Platform ', select('platform', [['aws', 'AWS'], ['azure', 'Azure'], ['gcp', 'GCP'], ['on_premises', 'On premises'], ['none', 'None']])),
    el('label', {}, 'Data per day (GB) ', el('input', { name: 'daily_gb', type: 'number', value: '5', min: '0' })),
    el('label', {}, 'Concurrent users ', el('input', { name: 'concurrent_users', type: 'number', value: '50', min: '1' })),
    el('label', {}, el('input', { name: 'retainer', type: 'checkbox' }), ' Managed-services retainer'),
  )
  document.getElementById('proposal-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const form = new FormData(event.target)
    const error = document.getElementById('proposal-error')
    const answers = {
      client_name: form.get('client_name'),
      license_term: Number(form.get('license_term')),
      default_integration: { method: 'batch_conformed' },
      environment: { platform: form.get('platform') },
      infrastructure: { daily_gb: Number(form.get('daily_gb')), concurrent_users: Number(form.get('concurrent_users')), refresh: 'hour' },
      managed_services: { retainer: form.get('retainer') === 'on' },
    }
    try {
      const { markdown: text } = await api('/proposals', { kpis: form.getAll('kpi'), answers })
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
