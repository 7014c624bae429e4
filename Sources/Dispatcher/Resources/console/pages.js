// The console's pages. Each route has a title, an optional head (filters, built once per visit),
// load (the API calls; its result is compared between polls) and render (data → DOM).
import { h, badge, when, link, table, fields, stringMap, section } from './dom.js';
import { lineChart, barChart, flowGraph } from './charts.js';

const enc = encodeURIComponent;
const JOB_STATES = ['pending', 'queued', 'running', 'paused', 'retrying', 'succeeded', 'failed', 'cancelled', 'dead',
  'rejected'];
const ENDED = new Set(['succeeded', 'failed', 'cancelled', 'dead', 'rejected']);
const ITEM_STATES = ['new', 'in-progress', 'successful', 'failed', 'abandoned', 'retried'];
const short = (text, length = 160) => (text && text.length > length ? `${text.slice(0, length - 1)}…` : text ?? '');

/** Cancel, pause and resume of one job, as fit its state. */
function jobActions(job, context, testPrefix = '') {
  const buttons = [];
  if (!ENDED.has(job.state)) {
    buttons.push(context.button('Cancel', () => context.api(`/v1/jobs/${enc(job.id)}/cancel`, { method: 'POST' }),
      { class: 'danger', 'data-testid': `${testPrefix}cancel-button`, id: testPrefix ? undefined : 'cancel-button' }));
  }
  if (job.state === 'running') {
    buttons.push(context.button('Pause', () => context.api(`/v1/jobs/${enc(job.id)}/pause`, { method: 'POST' }),
      { 'data-testid': `${testPrefix}pause-button` }));
  }
  if (job.state === 'paused') {
    buttons.push(context.button('Resume', () => context.api(`/v1/jobs/${enc(job.id)}/resume`, { method: 'POST' }),
      { 'data-testid': `${testPrefix}resume-button` }));
  }
  return h('span', { class: 'actions' }, buttons);
}

/** The account and host a job targets or ran on, as far as known. */
function where(job) {
  const account = job.account ?? job.ranAs;
  if (account && job.host) return `${account}@${job.host}`;
  return account ?? job.host ?? '—';
}

// ——— Fleet ———

const fleet = {
  pattern: ['fleet'],
  title: () => 'Fleet',
  async load({ api }) {
    const [workers, groups, stats] = await Promise.all([api('/v1/workers'), api('/v1/groups'), api('/v1/stats')]);
    return { workers, groups, stats };
  },
  render({ workers, groups, stats }) {
    const accounts = workers.flatMap((worker) => worker.accounts.map((account) => ({ worker, account })));
    const accountState = ({ worker, account }) => {
      if (worker.state === 'lost') return 'lost';
      if (account.hold) return 'held';
      return account.served ? 'serving' : 'standby';
    };
    return h('div', {},
      h('div', { class: 'summary' },
        JOB_STATES.map((state) => h('span', { class: 'count' }, badge(state), h('b', {}, stats.jobs[state] ?? 0))),
        h('span', { class: 'count' }, 'outbox', h('b', {}, stats.outbox))),
      section('Groups', table([
        { label: 'Group', cell: (group) => group.name },
        { label: 'Workers', class: 'num', cell: (group) => group.workers },
        { label: 'Running', class: 'num', cell: (group) => group.running },
        { label: 'Slots', class: 'num', cell: (group) => group.slots },
        { label: 'UI slots', class: 'num', cell: (group) => group.uiSlots },
        { label: 'Waiting', class: 'num', cell: (group) => group.waiting },
        { label: 'Max queued', class: 'num', cell: (group) => group.maxQueued ?? '—' },
      ], groups, { empty: 'No groups yet: a group appears with its first worker or job.' })),
      section('Workers', table([
        { label: 'Worker', cell: (worker) => worker.workerID },
        { label: 'Group', cell: (worker) => worker.group },
        { label: 'Host', cell: (worker) => worker.host },
        { label: 'State', cell: (worker) => badge(worker.state, { 'data-testid': 'worker-state' }) },
        { label: 'Slots in use', class: 'num', cell: (worker) => `${worker.running} / ${worker.slots}` },
        { label: 'Accounts', cell: (worker) => worker.accounts.map((account) => account.name).join(', ') },
        { label: 'First seen', cell: (worker) => when(worker.firstSeen) },
        { label: 'Last seen', cell: (worker) => when(worker.lastSeen) },
      ], workers, {
        empty: 'No workers have reported.',
        rowAttributes: (worker) => ({ 'data-worker-id': worker.workerID }),
      })),
      section('Accounts', h('p', { class: 'note' },
        'Each host account with its slots in use. Standby: another worker on the host serves it; lost: its worker ' +
        'stopped sending heartbeats.'),
      table([
        { label: 'Host', cell: ({ worker }) => worker.host },
        { label: 'Account', cell: ({ account }) => account.name },
        { label: 'Worker', cell: ({ worker }) => worker.workerID },
        { label: 'State', cell: (row) => badge(accountState(row)) },
        { label: 'In use', class: 'num', cell: ({ account }) => `${account.running} / ${account.limit}` },
        { label: 'UI session', cell: ({ account }) => (account.uiRunning ? 'in use' : '—') },
        { label: 'Hold', class: 'reason', cell: ({ account }) => account.hold ?? '' },
      ], accounts, { empty: 'No accounts.' })));
  },
};

// ——— Jobs ———

const jobs = {
  pattern: ['jobs'],
  title: () => 'Jobs',
  head(context) {
    const filters = context.state;
    const apply = () => {
      filters.state = stateSelect.value;
      filters.bot = botInput.value.trim();
      filters.group = groupInput.value.trim();
      context.refresh();
    };
    const stateSelect = h('select', { id: 'filter-state', 'data-testid': 'filter-state', on: { change: apply } },
      h('option', { value: '' }, 'any state'), JOB_STATES.map((state) => h('option', { value: state }, state)));
    stateSelect.value = filters.state ?? '';
    const botInput = h('input', { id: 'filter-bot', placeholder: 'bot', size: 14, on: { change: apply } });
    botInput.value = filters.bot ?? '';
    const groupInput = h('input', { id: 'filter-group', placeholder: 'group', size: 12, on: { change: apply } });
    groupInput.value = filters.group ?? '';
    return h('form', { class: 'filters', on: { submit: (event) => { event.preventDefault(); apply(); } } },
      h('label', {}, 'State', stateSelect), h('label', {}, 'Bot', botInput), h('label', {}, 'Group', groupInput),
      h('button', { type: 'submit' }, 'Filter'), h('span', { class: 'muted' }, 'newest 100 shown'));
  },
  async load({ api, state }) {
    const query = new URLSearchParams({ limit: '100' });
    for (const key of ['state', 'bot', 'group']) if (state[key]) query.set(key, state[key]);
    return api(`/v1/jobs?${query}`);
  },
  render(list, context) {
    return table([
      { label: 'Job', cell: (job) => link(['jobs', job.id], `#${job.id}`) },
      { label: 'Bot', cell: (job) => job.bot },
      { label: 'Group', cell: (job) => job.group },
      { label: 'State', cell: (job) => badge(job.state, { 'data-testid': 'job-state' }) },
      { label: 'Attempts', class: 'num', cell: (job) => `${job.attempts} / ${job.maxAttempts}` },
      { label: 'Where', cell: where },
      { label: 'Submitted', cell: (job) => when(job.submittedAt) },
      { label: 'Updated', cell: (job) => when(job.updatedAt) },
      { label: 'Reason', class: 'reason', cell: (job) => short(job.reason) },
      { label: '', cell: (job) => jobActions(job, context, 'row-') },
    ], list, { empty: 'No jobs match.', rowAttributes: (job) => ({ 'data-job-id': job.id, 'data-state': job.state }) });
  },
};

const jobDetail = {
  pattern: ['jobs', ':id'],
  title: ({ id }) => `Job #${id}`,
  async load({ api, params }) {
    const job = await api(`/v1/jobs/${enc(params.id)}`);
    let log = null;
    try {
      log = await api(`/v1/jobs/${enc(params.id)}/log`, { text: true });
    } catch (error) {
      if (error.status !== 404) throw error; // none reported yet
    }
    return { job, log };
  },
  render({ job, log }, context) {
    return h('div', { 'data-job-id': job.id },
      h('p', { class: 'filters' }, badge(job.state, { 'data-testid': 'job-state', id: 'job-state' }),
        jobActions(job, context), link(['jobs'], '← all jobs')),
      fields([
        ['Bot', `${job.bot} (version ${job.botVersion})`],
        ['Group', job.group],
        ['Priority', job.priority],
        ['Environment', job.environment],
        ['Attempts', `${job.attempts} of ${job.maxAttempts}`],
        ['Timeout', `${job.timeoutSeconds} s`],
        ['Launched', `${job.launchMethod} by ${job.initiator}`],
        ['Where', where(job)],
        ['Worker', job.workerID],
        ['Ran as', job.ranAs],
        ['Exit code', job.exitCode],
        ['Failure', job.failureKind],
        ['Reason', job.reason],
        ['Submitted', when(job.submittedAt)],
        ['Started', job.startedAt && when(job.startedAt)],
        ['Finished', job.finishedAt && when(job.finishedAt)],
        ['Flow run', job.flowRun && link(['runs', job.flowRun.kind, job.flowRun.id],
          `${job.flowRun.kind} run #${job.flowRun.id}, step ${job.flowRun.step}`)],
        ['Started by', job.parentJob && link(['jobs', job.parentJob], `job #${job.parentJob}`)],
        ['Jobs it started', job.children?.length ? job.children.map((child) => [link(['jobs', child], `#${child}`), ' ']) : undefined],
      ]),
      section('Inputs', stringMap(job.inputs)),
      section('Outputs', stringMap(job.outputs)),
      job.variables && Object.keys(job.variables).length ? section('Variables', stringMap(job.variables)) : null,
      section('History', table([
        { label: 'At', cell: (entry) => when(entry.at) },
        { label: 'From', cell: (entry) => (entry.from ? badge(entry.from) : '—') },
        { label: 'To', cell: (entry) => badge(entry.to) },
        { label: 'Attempt', class: 'num', cell: (entry) => entry.attempt },
        { label: 'Reason', class: 'reason', cell: (entry) => entry.reason },
      ], job.history ?? [], { empty: 'No history.' })),
      section('Log (last attempt)', log === null
        ? h('p', { class: 'empty' }, 'No log reported yet.')
        : h('pre', { class: 'log', 'data-testid': 'job-log' }, log || '(empty)')));
  },
};

// ——— Robot queue and dead jobs ———

const robotQueue = {
  pattern: ['robot-queue'],
  title: () => 'Robot queue',
  load: ({ api }) => api('/v1/robot-queue'),
  render(entries) {
    return h('div', {},
      h('p', { class: 'note' }, 'Launches targeted at an account, waiting for it, with the reason they wait.'),
      table([
        { label: 'Job', cell: (entry) => link(['jobs', entry.jobID], `#${entry.jobID}`) },
        { label: 'Bot', cell: (entry) => `${entry.bot} ${entry.botVersion}` },
        { label: 'Account', cell: (entry) => (entry.host ? `${entry.account}@${entry.host}` : entry.account) },
        { label: 'UI', cell: (entry) => (entry.needsUI ? 'yes' : 'no') },
        { label: 'Launched', cell: (entry) => `${entry.launchMethod} by ${entry.initiator}` },
        { label: 'Attempts', class: 'num', cell: (entry) => `${entry.attempts} / ${entry.maxAttempts}` },
        { label: 'Added', cell: (entry) => when(entry.addedAt) },
        { label: 'Not before', cell: (entry) => when(entry.notBefore) },
        { label: 'Reason', class: 'reason', cell: (entry) => entry.reason },
      ], entries, { empty: 'Nothing waits for an account.', rowAttributes: (entry) => ({ 'data-job-id': entry.jobID }) }));
  },
};

const dead = {
  pattern: ['dead'],
  title: () => 'Dead jobs',
  load: ({ api }) => api('/v1/dead'),
  render(list, context) {
    return h('div', {},
      h('p', { class: 'note' }, 'Jobs that used up their attempts or could never run. Requeue runs one again as a new job.'),
      table([
        { label: 'Job', cell: (job) => link(['jobs', job.id], `#${job.id}`) },
        { label: 'Bot', cell: (job) => job.bot },
        { label: 'Group', cell: (job) => job.group },
        { label: 'Attempts', class: 'num', cell: (job) => `${job.attempts} / ${job.maxAttempts}` },
        { label: 'Failure', cell: (job) => job.failureKind ?? '—' },
        { label: 'Updated', cell: (job) => when(job.updatedAt) },
        { label: 'Reason', class: 'reason', cell: (job) => short(job.reason) },
        { label: '', cell: (job) => context.button('Requeue',
          () => context.api(`/v1/dead/${enc(job.id)}/requeue`, { method: 'POST' }), { 'data-testid': 'requeue-button' }) },
      ], list, { empty: 'No dead jobs.', rowAttributes: (job) => ({ 'data-job-id': job.id }) }));
  },
};

// ——— Pipelines and workflows ———

const RUNS_SHOWN = 10;

const runs = {
  pattern: ['runs'],
  title: () => 'Pipelines and workflows',
  async load({ api }) {
    const [pipelines, workflows] = await Promise.all([api('/v1/pipelines'), api('/v1/workflows')]);
    const withRuns = (kind, list) => Promise.all(list.map(async (definition) => ({
      definition, runs: (await api(`/v1/${kind}s/${enc(definition.name)}/runs`))
        .sort((a, b) => b.id - a.id).slice(0, RUNS_SHOWN),
    })));
    return { pipelines: await withRuns('pipeline', pipelines), workflows: await withRuns('workflow', workflows) };
  },
  render({ pipelines, workflows }) {
    const runTable = (kind, list) => table([
      { label: 'Run', cell: (run) => link(['runs', kind, run.id], `#${run.id}`) },
      { label: 'State', cell: (run) => badge(run.state) },
      { label: 'Started by', cell: (run) => run.initiator },
      { label: 'Created', cell: (run) => when(run.createdAt) },
      { label: 'Finished', cell: (run) => when(run.finishedAt) },
      { label: 'Reason', class: 'reason', cell: (run) => short(run.reason) },
    ], list, { empty: 'No runs yet.', rowAttributes: (run) => ({ 'data-run-id': run.id }) });
    const cards = (kind, list, describe) => (list.length
      ? h('div', { class: 'cards' }, list.map(({ definition, runs: recent }) => h('div', { class: 'card' },
        h('h3', {}, definition.name, ' ', h('span', { class: 'muted' }, describe(definition))),
        runTable(kind, recent))))
      : h('p', { class: 'empty' }, `No ${kind}s defined.`));
    return h('div', {},
      section('Workflows', cards('workflow', workflows,
        (workflow) => `${workflow.nodes.length} nodes, ${workflow.edges.length} edges`)),
      section('Pipelines', cards('pipeline', pipelines,
        (pipeline) => `${pipeline.steps.length} steps: ${pipeline.steps.map((step) => step.bot).join(' → ')}`)));
  },
};

const runDetail = {
  pattern: ['runs', ':kind', ':id'],
  title: ({ kind, id }) => `${kind === 'pipeline' ? 'Pipeline' : 'Workflow'} run #${id}`,
  async load({ api, params }) {
    const kind = params.kind === 'pipeline' ? 'pipeline' : 'workflow';
    const run = await api(`/v1/${kind}-runs/${enc(params.id)}`);
    let definition = null;
    if (kind === 'workflow') {
      try {
        definition = await api(`/v1/workflows/${enc(run.name)}`);
      } catch (error) {
        if (error.status !== 404) throw error; // deleted since: drawn from the run's steps alone
      }
    }
    return { kind, run, definition };
  },
  render({ kind, run, definition }, context) {
    const steps = run.steps ?? [];
    const stateOf = new Map(steps.map((step) => [step.id, step.state]));
    let nodes;
    let edges;
    if (kind === 'workflow' && definition) {
      nodes = definition.nodes.map((node) => ({ id: node.id, bot: node.bot, state: stateOf.get(node.id) ?? 'waiting' }));
      edges = definition.edges;
    } else {
      // A pipeline is a chain: each step after the one before.
      nodes = steps.map((step) => ({ id: kind === 'pipeline' ? `step ${step.id}` : step.id, bot: step.bot, state: step.state }));
      edges = kind === 'pipeline'
        ? nodes.slice(1).map((node, index) => ({ from: nodes[index].id, to: node.id, on: 'success' })) : [];
    }
    const path = `/v1/${kind}-runs/${enc(run.id)}`;
    const ended = ['succeeded', 'failed', 'cancelled'].includes(run.state);
    return h('div', { 'data-run-id': run.id },
      h('p', { class: 'filters' }, badge(run.state, { 'data-testid': 'run-state' }),
        h('span', { class: 'actions' },
          run.state === 'running' ? context.button('Pause', () => context.api(`${path}/pause`, { method: 'POST' })) : null,
          run.state === 'paused' ? context.button('Resume', () => context.api(`${path}/resume`, { method: 'POST' })) : null,
          ended ? null : context.button('Cancel', () => context.api(`${path}/cancel`, { method: 'POST' }), { class: 'danger' })),
        link(['runs'], '← all runs')),
      fields([
        [kind === 'pipeline' ? 'Pipeline' : 'Workflow', run.name],
        ['Started by', run.initiator],
        ['Created', when(run.createdAt)],
        ['Finished', run.finishedAt && when(run.finishedAt)],
        ['Outstanding', run.outstanding],
        ['Reason', run.reason],
      ]),
      section('Graph', nodes.length ? flowGraph(nodes, edges) : h('p', { class: 'empty' }, 'No steps.')),
      section('Steps', table([
        { label: 'Step', cell: (step) => step.id },
        { label: 'Bot', cell: (step) => step.bot },
        { label: 'State', cell: (step) => badge(step.state) },
        { label: 'Job', cell: (step) => (step.jobID ? [link(['jobs', step.jobID], `#${step.jobID}`), ' ',
          step.jobState ? badge(step.jobState) : null] : '—') },
        { label: 'Attempts', class: 'num', cell: (step) => step.attempts ?? '—' },
        { label: 'Started', cell: (step) => when(step.startedAt) },
        { label: 'Finished', cell: (step) => when(step.finishedAt) },
        { label: 'Reason', class: 'reason', cell: (step) => short(step.reason) },
      ], steps, { empty: 'No steps yet.', rowAttributes: (step) => ({ 'data-step-id': step.id }) })));
  },
};

// ——— Work queues ———

// The API keeps no history of queue sizes: the console samples the counts on each poll of this
// page and keeps the last SAMPLES of them for as long as the page (the tab) stays open.
const SAMPLES = 300;
const samples = [];
const FINISHED = ['successful', 'failed', 'abandoned', 'retried'];
const backlogOf = (counts) => (counts.new ?? 0) + (counts['in-progress'] ?? 0);
const finishedOf = (counts) => FINISHED.reduce((sum, state) => sum + (counts[state] ?? 0), 0);

const queues = {
  pattern: ['queues'],
  title: () => 'Work queues',
  async load({ api }) {
    const list = await api('/v1/queues');
    const views = await Promise.all(list.map((queue) => api(`/v1/queues/${enc(queue.name)}`)));
    samples.push({ at: Date.now(), counts: Object.fromEntries(views.map((view) => [view.definition.name, view.counts])) });
    if (samples.length > SAMPLES) samples.shift();
    return { views, samples: samples.slice() };
  },
  render({ views, samples: history }) {
    const names = views.map((view) => view.definition.name);
    const backlog = lineChart(names.map((name) => ({
      name, points: history.filter((sample) => sample.counts[name]).map((sample) => [sample.at, backlogOf(sample.counts[name])]),
    })), 'Backlog (new and in progress) by queue');
    // Throughput: items that left the queues (any end state) between two samples, per minute.
    const bars = [];
    for (let index = 1; index < history.length; index += 1) {
      const [before, after] = [history[index - 1], history[index]];
      const finished = names.reduce((sum, name) => (before.counts[name] && after.counts[name]
        ? sum + Math.max(0, finishedOf(after.counts[name]) - finishedOf(before.counts[name])) : sum), 0);
      bars.push([after.at, (finished * 60000) / Math.max(after.at - before.at, 1)]);
    }
    const since = history.length ? when(new Date(history[0].at).toISOString()) : '—';
    return h('div', {},
      table([
        { label: 'Queue', cell: (view) => view.definition.name },
        { label: 'Backlog', class: 'num', cell: (view) => h('b', {}, backlogOf(view.counts)) },
        ...ITEM_STATES.map((state) => ({ label: state, class: 'num', cell: (view) => view.counts[state] ?? 0 })),
        { label: 'Retries', class: 'num', cell: (view) => view.definition.maxRetries },
        { label: 'Lease', class: 'num', cell: (view) => `${view.definition.leaseSeconds} s` },
      ], views, { empty: 'No work queues.', rowAttributes: (view) => ({ 'data-queue': view.definition.name }) }),
      h('p', { class: 'note', 'data-testid': 'chart-note' },
        `The charts cover the time since this page was opened (${since}): the API keeps no history of queue sizes, ` +
        `so the console samples them on each refresh (${history.length} samples so far).`),
      h('div', { class: 'cards' },
        h('div', { class: 'card' }, h('h3', {}, 'Backlog'), backlog),
        h('div', { class: 'card' }, h('h3', {}, 'Throughput (items finished per minute, all queues)'),
          barChart(bars, 'Items finished per minute'))));
  },
};

// ——— Queue triggers ———

const triggers = {
  pattern: ['triggers'],
  title: () => 'Queue triggers',
  load: ({ api }) => api('/v1/queue-triggers'),
  render(list) {
    const evaluation = (trigger) => {
      const last = trigger.lastEvaluation;
      if (!last) return h('span', { class: 'muted' }, 'not evaluated yet');
      const result = last.evaluation;
      return h('div', {},
        h('div', {}, `${when(last.at)} (${last.cause}): `, h('b', {}, `${result.jobsToStart} to start`),
          ` — wanted ${result.desiredJobs}, counted ${result.countedJobs}, capacity ${result.capacity}`),
        last.startedJobs.length
          ? h('div', {}, 'started ', last.startedJobs.map((id) => [link(['jobs', id], `#${id}`), ' '])) : null,
        result.reason ? h('div', { class: 'muted' }, result.reason) : null,
        last.problem ? h('div', { class: 'error' }, last.problem) : null);
    };
    return table([
      { label: 'Queue', cell: (trigger) => trigger.definition.queue },
      { label: 'Bot', cell: (trigger) => `${trigger.definition.bot} in ${trigger.definition.group}` },
      { label: 'State', cell: (trigger) => badge(trigger.definition.enabled ? 'active' : 'disabled') },
      { label: 'Rule', cell: (trigger) => `${trigger.definition.strategy}: from ${trigger.definition.minItemsToTrigger} ` +
        `items, ${trigger.definition.itemsPerJob} per job, at most ${trigger.definition.maxConcurrentJobs} jobs` },
      { label: 'Next recheck', cell: (trigger) => when(trigger.nextRecheckAt) },
      { label: 'Last evaluation', class: 'reason', cell: evaluation },
    ], list, { empty: 'No queue triggers.', rowAttributes: (trigger) => ({ 'data-queue': trigger.definition.queue }) });
  },
};

/** The routes, the first being the default page. */
export const routes = [fleet, jobs, jobDetail, robotQueue, dead, runs, runDetail, queues, triggers];
