'use strict'
// The proposal builder, drawn from the questionnaire document (GET /proposals/questionnaire):
// its eight steps, each question as its kind asks (text, date, number, yes/no, one or several
// choices, an hours range), questions repeated per required object model and per KPI, and
// `showIf` conditions. The answers are the document POST /proposals takes: a question's id is
// its path (`retention.staged_source_data.retention_period`), and a choice whose value is an
// object (an archival period with its unit) fills in the object around it.

/* global el, api, markdown */
/* exported ProposalBuilder */

/** Values the form starts with where the questionnaire has no default of its own. */
const STARTING_VALUES = { client_name: 'Acme Retail', 'infrastructure.daily_gb': 5, 'infrastructure.concurrent_users': 50, 'infrastructure.refresh': 'hour' }

class ProposalBuilder {
  constructor(root, kpis) {
    this.root = root
    this.kpis = kpis
    this.fields = new Map()
  }

  async start() {
    // The catalog's questionnaire: its value chains are the options of step 2.
    this.questionnaire = await api('/proposals/questionnaire', { kpis: [] })
    this.render([])
  }

  /** The questions of `step`, with repeated ones once per object model or KPI. */
  expand(step, models, kpis) {
    return step.questions.flatMap((q) => {
      if (q.repeat === 'objectModel') return models.map((m) => ({ ...q, id: q.id.replaceAll('{objectModel}', m), showIf: q.showIf && { ...q.showIf, question: q.showIf.question.replaceAll('{objectModel}', m) }, prompt: `${m}: ${q.prompt}` }))
      if (q.repeat === 'kpi') return kpis.map((k) => ({ ...q, id: q.id.replaceAll('{kpi}', k), showIf: q.showIf && { ...q.showIf, question: q.showIf.question.replaceAll('{kpi}', k) }, prompt: `${k}: ${q.prompt}` }))
      return [q]
    })
  }

  /** Draws the steps for the chosen KPIs (`models`: the object models they need). */
  render(chosen, models = []) {
    const kept = this.answersByField()
    this.fields.clear()
    const steps = this.questionnaire.steps.map((step) => {
      const rows = this.expand(step, models, chosen)
        .filter((q) => q.kind !== 'kpiSelection' && q.kind !== 'instances')
        .map((q) => this.field(q, kept.get(q.id)))
      const note = step.id === 'kpi_selection' ? el('p', { class: 'note' }, 'KPIs: choose them above (or with "Add to proposal" in the catalog).') : ''
      const empty = rows.length === 0 && step.questions.some((q) => q.repeat) ? el('p', { class: 'note' }, 'Choose KPIs to answer this step.') : ''
      return el('fieldset', { class: 'step', 'data-step': step.id }, el('legend', {}, `${step.number}. ${step.title}`), el('p', { class: 'note' }, step.description || ''), note, empty, ...rows)
    })
    this.root.replaceChildren(...steps)
    this.applyConditions()
  }

  /** The input of question `q`, with its current `value` (kept across re-renders). */
  field(q, value) {
    const start = value ?? q.default ?? STARTING_VALUES[q.id]
    const name = q.id
    let input
    if (q.kind === 'singleChoice' || q.kind === 'yesNo') {
      const options = q.options || [{ value: true, label: 'Yes' }, { value: false, label: 'No' }]
      input = el('select', { name, 'data-kind': 'choice' }, ...(q.required ? [] : [el('option', { value: '' }, '—')]),
        ...options.map((o) => el('option', { value: JSON.stringify(o.value), ...(JSON.stringify(o.value) === JSON.stringify(start) ? { selected: '' } : {}) }, o.priceText ? `${o.label} (${o.priceText})` : o.label)))
    } else if (q.kind === 'multipleChoice' || q.kind === 'flags') {
      // Flags are a mapping of each flag to whether it is set; several choices a list.
      const set = Array.isArray(start) ? start : Object.keys(start || {}).filter((k) => start[k])
      const chosen = new Set(set.map((v) => JSON.stringify(v)))
      input = el('span', { 'data-kind': q.kind === 'flags' ? 'flags' : 'many', 'data-name': name }, ...(q.options || []).map((o) => el('label', { class: 'inline' }, el('input', { type: 'checkbox', value: JSON.stringify(o.value), ...(chosen.has(JSON.stringify(o.value)) ? { checked: '' } : {}) }), ` ${o.label}`)))
    } else if (q.kind === 'hoursRange') {
      const range = start || {}
      input = el('span', { 'data-kind': 'range', 'data-name': name }, el('input', { type: 'number', min: q.min ?? 0, value: range.min ?? '', 'aria-label': 'from' }), ' to ', el('input', { type: 'number', min: q.min ?? 0, value: range.max ?? '', 'aria-label': 'to' }), ' hours')
    } else if (q.kind === 'number') {
      input = el('input', { type: 'number', name, 'data-kind': 'number', ...(q.min !== undefined ? { min: q.min } : {}), ...(q.max !== undefined ? { max: q.max } : {}), value: start ?? '', ...(q.required ? { required: '' } : {}) })
    } else {
      input = el('input', { type: q.kind === 'date' ? 'date' : 'text', name, 'data-kind': 'text', value: start ?? '' })
    }
    const row = el('label', { class: 'question', 'data-question': q.id }, `${q.prompt}${q.required ? ' *' : ''} `, input, q.unit ? ` ${q.unit}` : '', q.help ? el('small', { class: 'note' }, ` ${q.help}`) : '')
    this.fields.set(q.id, { q, row, input })
    input.addEventListener('change', () => this.applyConditions())
    return row
  }

  /** A field's answer, or undefined when it has none. */
  valueOf({ input }) {
    const kind = input.dataset.kind
    if (kind === 'choice') return input.value === '' ? undefined : JSON.parse(input.value)
    if (kind === 'many') return [...input.querySelectorAll('input:checked')].map((c) => JSON.parse(c.value))
    if (kind === 'flags') return Object.fromEntries([...input.querySelectorAll('input')].map((c) => [JSON.parse(c.value), c.checked]))
    if (kind === 'range') {
      const [min, max] = [...input.querySelectorAll('input')].map((i) => i.value)
      return min === '' || max === '' ? undefined : { min: Number(min), max: Number(max) }
    }
    if (kind === 'number') return input.value === '' ? undefined : Number(input.value)
    return input.value === '' ? undefined : input.value
  }

  answersByField() {
    return new Map([...this.fields].map(([id, f]) => [id, this.valueOf(f)]))
  }

  /** Shows the questions whose `showIf` holds; hidden ones give no answer. */
  applyConditions() {
    for (const { q, row } of this.fields.values()) {
      if (!q.showIf) continue
      const other = this.fields.get(q.showIf.question)
      const value = other && !other.row.hidden ? this.valueOf(other) : undefined
      row.hidden = !q.showIf.equals.some((v) => JSON.stringify(v) === JSON.stringify(value))
    }
  }

  /** The answers document of the visible fields. */
  answers() {
    const out = {}
    for (const [id, f] of this.fields) {
      if (f.row.hidden) continue
      const value = this.valueOf(f)
      if (value === undefined) continue
      const path = id.split('.')
      const isObject = f.q.kind === 'singleChoice' && typeof value === 'object' && value !== null
      // An object-valued choice fills in the object around it.
      const keys = isObject ? path.slice(0, -1) : path
      let at = out
      for (const key of keys.slice(0, -1)) at = at[key] ||= {}
      const last = keys[keys.length - 1]
      if (isObject) at[last] = { ...(at[last] || {}), ...value }
      else at[last] = value
    }
    return out
  }
}
