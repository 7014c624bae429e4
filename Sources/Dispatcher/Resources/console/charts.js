// Inline SVG drawings: a line chart, a bar chart and a flow graph. Colours come from classes in
// console.css (the CSP forbids style attributes); every label is a text node.
import { svg, token, clock } from './dom.js';

const WIDTH = 640;
const HEIGHT = 200;
const MARGIN = { left: 44, right: 12, top: 12, bottom: 26 };

const chartSVG = (label, children) =>
  svg('svg', { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': label }, children);

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, at least `value`. */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((bound) => bound >= value);
}

/** Axes with three value labels and the first and last times; returns the scales. */
function frame(children, times, maximum) {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const first = times[0];
  const span = Math.max(times[times.length - 1] - first, 1);
  const x = (time) => MARGIN.left + ((time - first) / span) * plotWidth;
  const y = (value) => MARGIN.top + plotHeight - (value / maximum) * plotHeight;
  for (const value of [0, maximum / 2, maximum]) {
    children.push(svg('line', { class: 'grid-line', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value) }));
    children.push(svg('text', { x: MARGIN.left - 6, y: y(value) + 4, 'text-anchor': 'end' },
      Number.isInteger(value) ? value : value.toFixed(1)));
  }
  children.push(svg('line', { class: 'axis', x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: y(0) }));
  children.push(svg('line', { class: 'axis', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0) }));
  children.push(svg('text', { x: MARGIN.left, y: HEIGHT - 6 }, clock(new Date(first))));
  children.push(svg('text', { x: WIDTH - MARGIN.right, y: HEIGHT - 6, 'text-anchor': 'end' },
    clock(new Date(times[times.length - 1]))));
  return { x, y, plotWidth };
}

/**
 * A line chart of several series over time. series: [{name, points: [[time ms, value]]}]
 * (all series share the sample times).
 */
export function lineChart(series, label) {
  const times = [...new Set(series.flatMap((one) => one.points.map(([time]) => time)))].sort((a, b) => a - b);
  const children = [svg('title', {}, label)];
  if (times.length < 2) {
    children.push(svg('text', { x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle' }, 'Collecting samples…'));
    return chartSVG(label, children);
  }
  const maximum = niceMax(Math.max(...series.flatMap((one) => one.points.map(([, value]) => value))));
  const { x, y } = frame(children, times, maximum);
  series.forEach((one, index) => {
    const points = one.points.map(([time, value]) => `${x(time).toFixed(1)},${y(value).toFixed(1)}`).join(' ');
    children.push(svg('polyline', { class: `series series-${index % 6}`, points }, svg('title', {}, one.name)));
  });
  // The legend, top left inside the plot.
  series.slice(0, 6).forEach((one, index) => {
    const top = MARGIN.top + 4 + index * 14;
    children.push(svg('g', { class: 'legend' },
      svg('rect', { class: `series-${index % 6}`, x: MARGIN.left + 8, y: top, width: 10, height: 3 }),
      svg('text', { x: MARGIN.left + 22, y: top + 5 }, one.name)));
  });
  return chartSVG(label, children);
}

/** A bar chart over time: bars: [[time ms, value]], one bar per interval ending at its time. */
export function barChart(bars, label) {
  const children = [svg('title', {}, label)];
  if (bars.length < 1) {
    children.push(svg('text', { x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle' }, 'Collecting samples…'));
    return chartSVG(label, children);
  }
  const times = bars.map(([time]) => time);
  if (times.length === 1) times.unshift(times[0] - 1000);
  const maximum = niceMax(Math.max(...bars.map(([, value]) => value)));
  const { x, y, plotWidth } = frame(children, times, maximum);
  const width = Math.max(2, Math.min(24, plotWidth / bars.length - 2));
  for (const [time, value] of bars) {
    const top = y(value);
    children.push(svg('rect', {
      class: 'bar', x: (x(time) - width).toFixed(1), y: top.toFixed(1), width: width.toFixed(1),
      height: Math.max(0, y(0) - top).toFixed(1),
    }, svg('title', {}, `${clock(new Date(time))}: ${value.toFixed(1)}`)));
  }
  return chartSVG(label, children);
}

const NODE = { width: 168, height: 56, gapX: 64, gapY: 18, pad: 16 };

/** Each node's column: the longest path to it from a node without predecessors (Kahn's order). */
function columns(nodes, edges) {
  const level = new Map(nodes.map((node) => [node.id, 0]));
  const incoming = new Map(nodes.map((node) => [node.id, 0]));
  for (const edge of edges) if (incoming.has(edge.to)) incoming.set(edge.to, incoming.get(edge.to) + 1);
  const ready = nodes.filter((node) => incoming.get(node.id) === 0).map((node) => node.id);
  const seen = new Set();
  while (ready.length) {
    const id = ready.shift();
    seen.add(id);
    for (const edge of edges.filter((one) => one.from === id && level.has(one.to))) {
      level.set(edge.to, Math.max(level.get(edge.to), level.get(id) + 1));
      incoming.set(edge.to, incoming.get(edge.to) - 1);
      if (incoming.get(edge.to) === 0) ready.push(edge.to);
    }
  }
  // A cycle (the dispatcher refuses them; drawn anyway): what was never reached goes last.
  const last = Math.max(0, ...level.values()) + 1;
  for (const node of nodes) if (!seen.has(node.id)) level.set(node.id, last);
  return level;
}

const shorten = (text, length) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

/**
 * A flow drawn as a graph, left to right. nodes: [{id, bot, state}]; edges: [{from, to, on}]
 * where `on` is success, failure or always. Each node is coloured by its state.
 */
export function flowGraph(nodes, edges) {
  const level = columns(nodes, edges);
  const byColumn = new Map();
  for (const node of nodes) {
    const column = level.get(node.id);
    if (!byColumn.has(column)) byColumn.set(column, []);
    byColumn.get(column).push(node);
  }
  const columnCount = Math.max(...byColumn.keys()) + 1;
  const rows = Math.max(...[...byColumn.values()].map((list) => list.length));
  const width = NODE.pad * 2 + columnCount * NODE.width + (columnCount - 1) * NODE.gapX;
  const height = NODE.pad * 2 + rows * NODE.height + (rows - 1) * NODE.gapY;
  const position = new Map();
  for (const [column, list] of byColumn) {
    const offset = ((rows - list.length) * (NODE.height + NODE.gapY)) / 2;
    list.forEach((node, row) => position.set(node.id, {
      x: NODE.pad + column * (NODE.width + NODE.gapX), y: NODE.pad + offset + row * (NODE.height + NODE.gapY),
    }));
  }
  const children = [svg('defs', {}, svg('marker', {
    id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  }, svg('path', { d: 'M0,0 L10,5 L0,10 z' })))];
  for (const edge of edges) {
    const from = position.get(edge.from);
    const to = position.get(edge.to);
    if (!from || !to) continue;
    const x1 = from.x + NODE.width;
    const y1 = from.y + NODE.height / 2;
    const x2 = to.x;
    const y2 = to.y + NODE.height / 2;
    const bend = Math.max(30, (x2 - x1) / 2);
    children.push(svg('path', {
      class: `edge on-${token(edge.on)}`, 'marker-end': 'url(#arrow)',
      d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
    }, svg('title', {}, `${edge.from} → ${edge.to} on ${edge.on}`)));
    if (edge.on && edge.on !== 'success') {
      children.push(svg('text', { class: 'edge-label', x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, 'text-anchor': 'middle' },
        edge.on));
    }
  }
  for (const node of nodes) {
    const { x, y } = position.get(node.id);
    children.push(svg('g', { class: `node state-${token(node.state)}`, 'data-node-id': node.id, 'data-state': node.state },
      svg('title', {}, `${node.id}: ${node.bot} (${node.state})`),
      svg('rect', { x, y, width: NODE.width, height: NODE.height, rx: 8 }),
      svg('text', { class: 'id', x: x + 10, y: y + 18 }, shorten(node.id, 22)),
      svg('text', { class: 'sub', x: x + 10, y: y + 33 }, shorten(node.bot, 24)),
      svg('text', { class: 'sub', x: x + 10, y: y + 48 }, node.state)));
  }
  return svg('svg', {
    class: 'graph', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'flow graph',
  }, children);
}
