// kanri's web console: plain DOM over the API of the same server. The token comes from the
// URL fragment (#token=…, which browsers never send to a server) or the login form and is
// kept in sessionStorage only. Every change goes through a confirmation naming it; the
// server refuses what an operator token may not do whatever the page shows.
'use strict';
(function () {
  const T = window.KANRI_TEXT[(navigator.language || 'en').toLowerCase().startsWith('ja') ? 'ja' : 'en'];
  document.documentElement.lang = T === window.KANRI_TEXT.ja ? 'ja' : 'en';
  const main = document.getElementById('main');
  let me = null;
  let streams = [];

  // ---- the token -------------------------------------------------------------------
  const frag = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (frag) {
    sessionStorage.setItem('kanri.token', decodeURIComponent(frag[1]));
    history.replaceState(null, '', location.pathname + '#/');
  }
  const token = () => sessionStorage.getItem('kanri.token');

  // ---- helpers ---------------------------------------------------------------------
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  async function api(method, path, body) {
    const r = await fetch(path, {
      method, headers: { authorization: 'Bearer ' + token(), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await r.json().catch(() => null);
    if (r.status === 401) { sessionStorage.removeItem('kanri.token'); login(T.badToken); throw new Error(T.badToken); }
    if (!r.ok) throw new Error((data && data.error && data.error.message) || r.statusText);
    return data;
  }
  // Server-Sent Events over fetch: EventSource cannot send the Authorization header.
  function stream(path, onEvent, headers) {
    const ac = new AbortController();
    streams.push(ac);
    (async () => {
      const r = await fetch(path, { headers: { authorization: 'Bearer ' + token(), ...(headers || {}) }, signal: ac.signal });
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message', data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) onEvent(event, JSON.parse(data));
        }
      }
    })().catch(() => {});
    return ac;
  }
  function stopStreams() { for (const s of streams) s.abort(); streams = []; }
  const cls = (v) => ({ class: String(v) });
  const isAdmin = () => me && me.level === 'administrator';

  function confirmChange(text) {
    const d = document.getElementById('confirm');
    document.getElementById('confirm-text').textContent = T.willRun + ' ' + text;
    document.getElementById('confirm-yes').textContent = T.confirm;
    document.getElementById('confirm-no').textContent = T.cancel;
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
      d.showModal();
    });
  }

  // A change: confirmed, submitted, and its jobs' progress shown where it was started.
  async function change(describe, request, where) {
    if (!(await confirmChange(describe))) return;
    const out = el('div', { class: 'change' });
    where.append(out);
    try {
      const r = await api('POST', '/api/v1/changes', request);
      for (const id of r.jobs) out.append(jobProgress(id));
    } catch (e) {
      out.append(el('p', { class: 'err' }, T.refused + ': ' + e.message));
    }
  }
  function jobProgress(id) {
    const bar = el('span', {});
    bar.style.width = '0%';
    const text = el('span', { class: 'job-status' }, '');
    const row = el('p', { class: 'job', 'data-job': id }, T.started + ' ' + String(id).padStart(5, '0') + ' ', el('span', { class: 'progress' }, bar), ' ', text);
    stream('/api/v1/jobs/' + id + '/stream', (ev, j) => {
      if (ev !== 'job') return;
      bar.style.width = j.progress + '%';
      const step = j.steps.length ? j.steps[j.steps.length - 1].name : '';
      text.textContent = j.status + ' ' + j.progress + '% ' + step;
      text.className = 'job-status ' + j.status;
      row.dataset.status = j.status;
    });
    return row;
  }

  // ---- pages -----------------------------------------------------------------------
  function login(message) {
    stopStreams();
    document.getElementById('who').textContent = '';
    const input = el('input', { type: 'password', id: 'token', autocomplete: 'off', size: 60 });
    main.replaceChildren(el('section', {}, el('h2', {}, T.login), message ? el('p', { class: 'err' }, message) : null,
      el('form', { id: 'login', onsubmit: (e) => { e.preventDefault(); sessionStorage.setItem('kanri.token', input.value.trim()); start(); } }, input, ' ', el('button', { type: 'submit' }, T.signin))));
  }

  async function overview() {
    const [s, machines] = await Promise.all([api('GET', '/api/v1/summary'), api('GET', '/api/v1/machines')]);
    const byGroup = new Map();
    for (const m of machines) {
      const g = m.group || '(' + T.pool + ')';
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g).push(m);
    }
    const groups = el('section', { id: 'groups' }, el('h2', {}, T.groups + ' (' + s.machines.total + ' ' + T.machines + ')'));
    for (const [g, ms] of byGroup) {
      const actions = isAdmin() && !g.startsWith('(') ? el('span', { class: 'actions' },
        el('button', { class: 'act-add', 'data-group': g, onclick: () => change(T.addMachine + ': ' + g, { action: 'add', group: g }, groups) }, T.addMachine)) : null;
      groups.append(el('h3', {}, g, ' ', actions), el('table', { class: 'machines' },
        el('tr', {}, el('th', {}, T.machine), el('th', {}, T.host), el('th', {}, T.power), el('th', {}, T.hardware), el('th', {}, T.management), el('th', {}, T.maintenance)),
        ms.map((m) => el('tr', { 'data-machine': m.name },
          el('td', {}, el('a', { href: '#/machine/' + encodeURIComponent(m.name) }, m.name)), el('td', {}, m.host || ''),
          el('td', cls(m.power), m.power), el('td', cls(m.hardware), m.hardware), el('td', cls(m.management), m.management), el('td', {}, m.maintenance ? '✔' : '')))));
    }
    const jobs = el('section', { id: 'jobs' }, el('h2', {}, T.jobs), s.jobs.running.length ? s.jobs.running.map((j) => jobProgress(j.id)) : el('p', {}, T.none));
    const alerts = el('section', { id: 'alerts' }, el('h2', {}, T.alerts), s.alerts.length ? el('table', {}, s.alerts.map((a) => el('tr', {}, el('td', {}, a.time), el('td', {}, a.server), el('td', cls(a.severity), a.severity), el('td', {}, a.message)))) : el('p', {}, T.none));
    const log = el('table', { id: 'event-log' });
    const addEvent = (e) => log.prepend(el('tr', {}, el('td', {}, e.time), el('td', cls(e.type), e.type), el('td', {}, (T === window.KANRI_TEXT.ja && e.message_ja) || e.message)));
    const recent = await api('GET', '/api/v1/events?limit=20');
    for (const e of recent) addEvent(e);
    // A job that starts while the page is open (an entry of the log names it) joins the running jobs.
    const shown = new Set(s.jobs.running.map((j) => j.id));
    stream('/api/v1/events/stream', (ev, e) => {
      if (ev !== 'event') return;
      addEvent(e);
      if (e.job && !shown.has(e.job)) {
        shown.add(e.job);
        const none = jobs.querySelector('p:not(.job)');
        if (none) none.remove();
        jobs.append(jobProgress(e.job));
      }
    // The stream resumes after the last entry shown: nothing written in between is missed.
    }, { 'last-event-id': String(recent.length ? recent[recent.length - 1].id : 0) });
    main.replaceChildren(groups, jobs, alerts, el('section', { id: 'events' }, el('h2', {}, T.events), log));
  }

  async function machinePage(name) {
    const m = await api('GET', '/api/v1/machines/' + encodeURIComponent(name));
    const head = el('section', { id: 'machine' }, el('h2', {}, T.machine + ' ' + m.name),
      el('p', {}, T.group + ': ' + (m.group || '-') + ' / ' + T.host + ': ' + (m.host || '-')),
      el('p', {}, T.power + ': ', el('span', cls(m.power), m.power), ' · ' + T.hardware + ': ', el('span', cls(m.hardware), m.hardware), ' · ' + T.management + ': ', el('span', cls(m.management), m.management)));
    if (m.controller) {
      const sensors = el('div', { id: 'sensors' });
      head.append(el('p', {}, T.controller + ': ' + m.controller.type + ' ' + (m.controller.address || '') + ' (' + (m.controller.last_status || '-') + ') ',
        el('button', { id: 'read-sensors', onclick: async () => {
          try {
            const r = await api('POST', '/api/v1/oob', { operation: 'getSensorList', targets: [m.name] });
            sensors.replaceChildren(el('pre', {}, r.results.map((x) => JSON.stringify(x)).join('\n') || r.errors.join('\n')));
          } catch (e) { sensors.replaceChildren(el('p', { class: 'err' }, e.message)); }
        } }, T.sensors)), sensors);
    }
    if (isAdmin() && m.group && m.host) {
      const req = (cmd) => ({ action: 'power', cmd, group: m.group, hosts: [m.host] });
      head.append(el('p', { class: 'actions' },
        ['poweron', 'shutdown', 'reboot'].map((cmd) => el('button', { class: 'act-' + cmd, onclick: () => change(T[cmd] + ': ' + m.name + ' (' + m.group + ', ' + m.host + ')', req(cmd), head) }, T[cmd])),
        el('button', { class: 'act-replace', onclick: () => change(T.replaceMachine + ': ' + m.name + ' (' + m.group + ', ' + m.host + ')', { action: 'replace', group: m.group, host: m.host }, head) }, T.replaceMachine),
        el('button', { class: 'act-delete', onclick: () => change(T.deleteMachine + ': ' + m.name + ' (' + m.group + ', ' + m.host + ')', { action: 'delete', group: m.group, host: m.host }, head) }, T.deleteMachine)));
    }
    const hist = el('section', { id: 'history' }, el('h2', {}, T.history),
      el('table', {}, m.history.jobs.map((j) => el('tr', {}, el('td', {}, String(j.id).padStart(5, '0')), el('td', {}, j.sequence), el('td', cls(j.status), j.status), el('td', {}, j.created_at)))),
      el('table', {}, m.history.events.map((e) => el('tr', {}, el('td', {}, e.time), el('td', cls(e.type), e.type), el('td', {}, e.message)))));
    main.replaceChildren(head, hist);
  }

  async function route() {
    stopStreams();
    const h = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
    try {
      if (h.startsWith('machine/')) await machinePage(h.slice(8));
      else await overview();
    } catch (e) {
      if (token()) main.replaceChildren(el('p', { class: 'err' }, e.message));
    }
  }

  async function start() {
    if (!token()) return login();
    try {
      me = await api('GET', '/api/v1/whoami');
    } catch { return; }
    document.getElementById('who').textContent = me.name + ' — ' + T[me.level];
    const out = document.getElementById('logout');
    out.hidden = false;
    out.textContent = T.logout;
    out.onclick = () => { sessionStorage.removeItem('kanri.token'); me = null; out.hidden = true; login(); };
    document.body.dataset.level = me.level;
    await route();
  }
  window.addEventListener('hashchange', () => { if (me) route(); });
  start();
})();
