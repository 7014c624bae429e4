// DOM helpers. Every value from the API goes into the page as text (text nodes, textContent,
// setAttribute), never as HTML: bot names, inputs and logs may hold hostile strings.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'on') {
      for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An HTML element: h('a', {href: '#/jobs'}, 'Jobs'). Strings among the children become text. */
export const h = (tag, attributes, ...children) => build(document.createElement(tag), attributes, children);

/** An SVG element, as h. */
export const svg = (tag, attributes, ...children) =>
  build(document.createElementNS(SVG_NS, tag), attributes, children);

/** A class name from a value (a state): only letters, digits and dashes survive. */
export const token = (value) => String(value ?? '').toLowerCase().replace(/[^a-z0-9-]/g, '-');

/** A coloured badge for a state (jobs, workers, items, runs, steps). */
export const badge = (state, attributes = {}) =>
  h('span', { class: `badge state-${token(state)}`, ...attributes }, state ?? '—');

const pad = (n) => String(n).padStart(2, '0');

/** hh:mm:ss of a Date, local time. */
export const clock = (date) => `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;

/** An ISO time as local time: only the clock when it is today. */
export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const today = new Date();
  if (date.toDateString() === today.toDateString()) return clock(date);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock(date)}`;
}

/** A link to a console page; each part of the path is encoded. */
export const link = (parts, text, attributes = {}) =>
  h('a', { href: '#/' + parts.map((part) => encodeURIComponent(String(part))).join('/'), ...attributes }, text);

/**
 * A table. columns: [{label, cell: (row) => Node|string, class?}]; options.rowAttributes(row) gives
 * each row's attributes; options.empty is shown when there are no rows.
 */
export function table(columns, rows, options = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, options.empty ?? 'Nothing here.');
  return h('table', { class: options.class ?? 'grid' },
    h('thead', {}, h('tr', {}, columns.map((column) => h('th', { class: column.class }, column.label)))),
    h('tbody', {}, rows.map((row) =>
      h('tr', options.rowAttributes ? options.rowAttributes(row) : {},
        columns.map((column) => h('td', { class: column.class }, column.cell(row)))))));
}

/** A definition list of [term, value] pairs; pairs whose value is undefined are left out. */
export const fields = (pairs) =>
  h('dl', { class: 'fields' }, pairs.filter(([, value]) => value !== undefined && value !== null)
    .map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));

/** A string map (inputs, outputs, variables) as a small table. */
export function stringMap(map, empty = 'none') {
  const entries = Object.entries(map || {});
  if (!entries.length) return h('span', { class: 'muted' }, empty);
  return h('table', { class: 'map' }, h('tbody', {}, entries.map(([key, value]) =>
    h('tr', {}, h('th', {}, key), h('td', {}, h('code', {}, value))))));
}

/** A section with a heading. */
export const section = (title, ...children) => h('section', {}, h('h2', {}, title), children);
