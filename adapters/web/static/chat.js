/*
 * pmo-bot local web chat: the browser side.
 *
 * The server sends each bot message as an escaped HTML fragment (an <article class="reply">);
 * those fragments are the only thing this script ever puts in innerHTML. Everything the person
 * types, and every file name, is shown with textContent.
 *
 * Hooks for end-to-end tests: body[data-ready="1"] once the welcome has been handled (or has
 * failed), and body[data-busy="1"] while a request is queued or in flight, or a pick is waiting.
 */
(function () {
  'use strict';

  var MAX_TEXT = 2000;
  var MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
  var UPLOAD_EXTENSIONS = ['.csv', '.xlsx', '.xlsm'];
  var PICK_DELAY_MS = 350; // arrow keys move through a radio group: record only where it settles
  var JSON_TIMEOUT_MS = 30 * 1000;
  var UPLOAD_TIMEOUT_MS = 120 * 1000;
  var TOKEN_HASH = '#token=';

  var MESSAGES = {
    token: 'This page needs its access link: open the address with #token=… that your administrator gave you.',
    unreadable: 'The server sent an answer this page cannot read. Please try again.',
    timeout: 'pmo-bot did not answer in time; try again.',
    dropHint: 'Drop a risk register (CSV or Excel) to review it.',
  };

  var els = {};
  var requestCount = 0; // requests queued or in flight
  var pickCount = 0; // radio picks waiting out their debounce
  var announceTimer = 0;
  var queue = Promise.resolve();
  var pendingPicks = new Map(); // "article-id|radio name" -> {timer, radio}
  var replacedBy = new WeakMap(); // old .turn -> the .turn that replaced it
  var dragDepth = 0;
  var dragWatchdog = 0;
  var turnCounter = 0;
  var reducedMotion = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)');

  /* ---------- Small DOM helpers ---------- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /** Says text once through the #announce status region (polite: it waits for a pause). */
  function announce(text) {
    if (!els.announce || !text) return;
    window.clearTimeout(announceTimer);
    els.announce.textContent = '';
    // A fresh text node after clearing makes screen readers read it again, even the same words.
    announceTimer = window.setTimeout(function () { els.announce.textContent = text; }, 100);
  }

  /** Runs fn once the browser has drawn (and so handed the DOM to assistive tech) at least once. */
  function afterRender(fn) {
    var done = false;
    function once() {
      if (done) return;
      done = true;
      fn();
    }
    if (window.requestAnimationFrame) {
      window.requestAnimationFrame(function () { window.setTimeout(once, 0); });
    }
    window.setTimeout(once, 250); // a hidden tab draws no frames
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + ' bytes';
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0) + ' KB';
    return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
  }

  /* ---------- The log ---------- */

  function newTurn(kind) {
    var turn = el('div', 'turn ' + kind);
    turnCounter += 1;
    turn.dataset.turn = String(turnCounter);
    return turn;
  }

  function appendTurns(turns) {
    if (!turns.length) return;
    turns.forEach(function (turn) { els.log.appendChild(turn); });
    scrollToNew(turns[0]);
  }

  function scrollToNew(firstNew) {
    var log = els.log;
    var fromTop = firstNew.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop;
    var added = log.scrollHeight - fromTop;
    // A long answer (a register review) is read from its top; a short one sits at the bottom.
    var target = added > log.clientHeight ? fromTop - 8 : log.scrollHeight;
    if (typeof log.scrollTo === 'function') {
      log.scrollTo({ top: target, behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
    } else {
      log.scrollTop = target;
    }
  }

  function prefersReducedMotion() {
    return Boolean(reducedMotion && reducedMotion.matches);
  }

  function showUserTurn(text) {
    var turn = newTurn('user');
    var bubble = el('p', 'bubble');
    bubble.appendChild(el('span', 'visually-hidden', 'You: '));
    bubble.appendChild(document.createTextNode(text));
    turn.appendChild(bubble);
    appendTurns([turn]);
    return turn;
  }

  /** A small bot notice; parts are strings, or {code: "..."} for a command. */
  function showNotice(parts, kind) {
    var turn = newTurn('bot');
    var p = el('p', 'notice' + (kind ? ' ' + kind : ''));
    p.appendChild(el('span', 'visually-hidden', kind === 'error' ? 'Problem: ' : 'Note: '));
    (Array.isArray(parts) ? parts : [parts]).forEach(function (part) {
      if (part && typeof part === 'object' && part.code) {
        p.appendChild(el('code', null, part.code));
      } else {
        p.appendChild(document.createTextNode(String(part)));
      }
    });
    turn.appendChild(p);
    appendTurns([turn]);
  }

  function networkNotice() {
    showNotice(['pmo-bot cannot be reached: check that the server (', { code: 'make run' },
      ') is still running.'], 'error');
  }

  /** Builds a bot turn from one server message. */
  function botTurn(message) {
    var turn = newTurn('bot');
    turn.innerHTML = typeof message.html === 'string' ? message.html : '';
    if (message.intent) turn.dataset.intent = String(message.intent);
    var article = turn.querySelector('article');
    if (article) article.setAttribute('tabindex', '-1');
    wrapTables(turn);
    return turn;
  }

  /** Wide tables scroll sideways inside a focusable, labelled region. */
  function wrapTables(root) {
    root.querySelectorAll('table').forEach(function (table) {
      var wrap = el('div', 'table-wrap');
      wrap.setAttribute('role', 'region');
      wrap.setAttribute('tabindex', '0');
      wrap.setAttribute('aria-label', 'Table (scrolls sideways when wide)');
      table.parentNode.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
  }

  /** Follows replacements so a late answer lands on what is on screen now. */
  function currentTurn(turn) {
    var seen = 0;
    while (turn && replacedBy.has(turn) && seen < 100) {
      turn = replacedBy.get(turn);
      seen += 1;
    }
    return turn;
  }

  /**
   * Shows the server's messages. The first message marked replace redraws sourceTurn in place
   * (the survey showing what was recorded); everything else is appended. Resolves once shown.
   */
  function showMessages(messages, sourceTurn) {
    var appended = [];
    var anchor = null;
    var firstRedrawn = null;
    var source = currentTurn(sourceTurn);
    var turns = messages.filter(function (message) { return message && typeof message === 'object'; })
      .map(function (message) { return { message: message, turn: botTurn(message) }; });
    var redraws = turns.some(function (item) { return item.message.replace; }) && source && source.isConnected;
    // A redraw is not news: keep the log's live region from reading the whole survey again.
    if (redraws) els.log.setAttribute('aria-live', 'off');
    turns.forEach(function (item) {
      var turn = item.turn;
      if (item.message.replace && source && source.isConnected && !anchor) {
        replaceTurn(source, turn);
        anchor = turn;
        firstRedrawn = turn;
      } else if (item.message.replace && anchor) {
        anchor.after(turn);
        anchor = turn;
      } else {
        appended.push(turn);
      }
    });
    if (!redraws) {
      appendTurns(appended);
      return Promise.resolve();
    }
    return new Promise(function (resolve) {
      afterRender(function () {
        els.log.setAttribute('aria-live', 'polite');
        if (firstRedrawn) announce(redrawSummary(firstRedrawn));
        appendTurns(appended); // new turns are read as usual
        resolve();
      });
    });
  }

  /** A short line for a redrawn turn: its "Recorded: …" paragraph, else its heading. */
  function redrawSummary(turn) {
    var article = turn.querySelector('article') || turn;
    var recorded = Array.prototype.filter.call(article.querySelectorAll('p'), function (p) {
      return p.textContent.trim().indexOf('Recorded:') === 0;
    })[0];
    var line = recorded || article.querySelector('h2');
    return line ? line.textContent.replace(/\s+/g, ' ').trim() : '';
  }

  function replaceTurn(oldTurn, newTurn_) {
    var focus = describeFocus(oldTurn);
    newTurn_.classList.add('redrawn'); // no arrival animation for a redraw in place
    carryTypedText(oldTurn, newTurn_);
    carryPendingPicks(oldTurn, newTurn_);
    oldTurn.replaceWith(newTurn_);
    replacedBy.set(oldTurn, newTurn_);
    restoreFocus(focus, newTurn_);
  }

  /** A pick made while an earlier one was on its way is still sent; keep it showing meanwhile. */
  function carryPendingPicks(oldTurn, newTurn_) {
    pendingPicks.forEach(function (pending) {
      if (currentTurn(pending.turn) !== oldTurn) return;
      newTurn_.querySelectorAll('input[type="radio"]').forEach(function (radio) {
        if (radio.name === pending.name && radio.value === pending.value) radio.checked = true;
      });
    });
  }

  /** Comments typed but not yet submitted survive a redraw caused by a radio pick. */
  function carryTypedText(oldTurn, newTurn_) {
    oldTurn.querySelectorAll('textarea[name]').forEach(function (oldField) {
      if (oldField.value === oldField.defaultValue) return;
      var newField = findByName(newTurn_, 'textarea', oldField.name);
      if (newField && newField.value === newField.defaultValue) newField.value = oldField.value;
    });
  }

  function findByName(root, tag, name) {
    var found = null;
    root.querySelectorAll(tag + '[name]').forEach(function (node) {
      if (!found && node.name === name) found = node;
    });
    return found;
  }

  function describeFocus(turn) {
    var active = document.activeElement;
    if (!active || !turn.contains(active)) return null;
    return { tag: active.tagName.toLowerCase(), type: active.type, name: active.name || '' };
  }

  function restoreFocus(focus, turn) {
    if (!focus) return;
    var target = null;
    if (focus.tag === 'input' && focus.type === 'radio' && focus.name) {
      var radios = Array.prototype.filter.call(turn.querySelectorAll('input[type="radio"]'),
        function (radio) { return radio.name === focus.name; });
      target = radios.filter(function (radio) { return radio.checked; })[0] || radios[0] || null;
    } else if (focus.tag === 'textarea' && focus.name) {
      target = findByName(turn, 'textarea', focus.name);
    }
    if (!target) target = turn.querySelector('article') || turn;
    target.focus({ preventScroll: target.tagName === 'ARTICLE' ? false : true });
  }

  /* ---------- Talking to the server ---------- */

  /** Requests queued or in flight disable Send; waiting picks only mark the page busy. */
  function setBusy(requests, picks) {
    requestCount = Math.max(0, requestCount + requests);
    pickCount = Math.max(0, pickCount + (picks || 0));
    var working = requestCount > 0;
    var busy = working || pickCount > 0;
    els.typing.hidden = !working;
    els.send.disabled = working;
    if (busy) {
      document.body.dataset.busy = '1';
      els.log.setAttribute('aria-busy', 'true');
    } else {
      delete document.body.dataset.busy;
      els.log.removeAttribute('aria-busy');
    }
  }

  /** Runs requests one after another, so answers arrive in the order they were asked. */
  function enqueue(task) {
    setBusy(1);
    var run = queue.then(task).catch(function () {
      showNotice('Something went wrong on this page. Please try again.', 'error');
    }).then(function () { setBusy(-1); });
    queue = run;
    return run;
  }

  /**
   * Fetches and reads an answer; never throws, and gives up after timeoutMs.
   * Resolves to {messages} or {error, status}, {network: true} or {timeout: true}.
   */
  function request(path, options, timeoutMs) {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timedOut = false;
    var timer = window.setTimeout(function () {
      timedOut = true;
      if (controller) controller.abort();
    }, timeoutMs || JSON_TIMEOUT_MS);
    var init = Object.assign({ credentials: 'same-origin', cache: 'no-store' }, options || {});
    init.headers = Object.assign({ Accept: 'application/json' }, init.headers || {});
    if (controller) init.signal = controller.signal;
    return fetch(path, init).then(function (response) {
      return response.json().then(function (data) { return data; }, function () { return null; })
        .then(function (data) { return timedOut ? { timeout: true } : readAnswer(response, data); });
    }, function () {
      return timedOut ? { timeout: true } : { network: true };
    }).then(function (answer) {
      window.clearTimeout(timer);
      return answer;
    });
  }

  function readAnswer(response, data) {
    if (!response.ok) {
      var line = data && typeof data.error === 'string' && data.error.trim()
        ? data.error.trim()
        : 'The server could not answer that (error ' + response.status + '). Please try again.';
      return { error: line, status: response.status };
    }
    if (response.status === 204) return { messages: [] };
    if (!data || !Array.isArray(data.messages)) return { error: MESSAGES.unreadable };
    return { messages: data.messages };
  }

  function post(path, payload) {
    return request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-PMO-Web': '1' },
      body: JSON.stringify(payload),
    }, JSON_TIMEOUT_MS);
  }

  /** Shows a failed answer's notice. Returns true when there was one. */
  function showFailure(answer) {
    if (answer.network) {
      networkNotice();
    } else if (answer.timeout) {
      showNotice(MESSAGES.timeout, 'error');
    } else if (answer.error) {
      // Only a missing or wrong token (401) needs the access link; anything else says why itself.
      showNotice(answer.status === 401 ? MESSAGES.token : answer.error, 'error');
    } else {
      return false;
    }
    return true;
  }

  /** Shows an answer or its error line. Resolves to true when the answer was a success. */
  function handleAnswer(answer, sourceTurn) {
    if (showFailure(answer)) return Promise.resolve(false);
    return showMessages(answer.messages, sourceTurn).then(function () { return true; });
  }

  /* ---------- What the person does ---------- */

  function sendText(text) {
    flushPicks(null);
    showUserTurn(text);
    return enqueue(function () {
      return post('/web/message', { text: text }).then(function (answer) {
        return handleAnswer(answer, null);
      }).then(function (ok) {
        // Give the words back if nothing was sent, so they need not be typed again.
        if (!ok && !els.message.value) {
          els.message.value = text;
          fitComposer();
        }
      });
    });
  }

  function sendAction(action, values, sourceTurn) {
    return enqueue(function () {
      return post('/web/action', { action: action, values: values || {} }).then(function (answer) {
        return handleAnswer(answer, sourceTurn);
      });
    });
  }

  function checkFile(file) {
    var name = file.name || 'that file';
    var lower = name.toLowerCase();
    var known = UPLOAD_EXTENSIONS.some(function (ext) { return lower.endsWith(ext); });
    if (!known) {
      return '“' + name + '” is not a register this bot can read: choose a CSV file or an Excel workbook (.csv, .xlsx or .xlsm).';
    }
    if (file.size === 0) return '“' + name + '” is empty, so there is nothing to review.';
    if (file.size > MAX_UPLOAD_BYTES) {
      return '“' + name + '” is ' + formatSize(file.size) + '; the limit is 10 MB. Remove old rows or other sheets and try again.';
    }
    return null;
  }

  function uploadFile(file) {
    var problem = checkFile(file);
    if (problem) {
      showNotice(problem, 'error');
      return;
    }
    flushPicks(null);
    showUserTurn('📎 ' + file.name + ' (' + formatSize(file.size) + ')');
    enqueue(function () {
      var form = new FormData();
      form.append('file', file, file.name);
      return request('/web/upload', { method: 'POST', headers: { 'X-PMO-Web': '1' }, body: form },
        UPLOAD_TIMEOUT_MS).then(function (answer) { return handleAnswer(answer, null); });
    });
  }

  /**
   * An access link ending in #token=… : the token leaves the address bar at once (a fragment is
   * never sent to the server, nor kept in a Referer) and is traded for a cookie. Resolves to false
   * when the login failed, after showing why.
   */
  function logIn() {
    var hash = window.location.hash || '';
    if (hash.indexOf(TOKEN_HASH) !== 0) return Promise.resolve(true);
    var token = hash.slice(TOKEN_HASH.length);
    try {
      token = decodeURIComponent(token);
    } catch (error) {
      // A token with a stray % is sent as it stands; the server judges it.
    }
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    var ok = false;
    return enqueue(function () {
      return post('/web/login', { token: token }).then(function (answer) {
        if (answer.status === 401) {
          showNotice(answer.error, 'error'); // the server's own line
        } else {
          ok = !showFailure(answer);
        }
      });
    }).then(function () { return ok; });
  }

  function loadWelcome() {
    return enqueue(function () {
      return request('/web/welcome', { method: 'GET' }, JSON_TIMEOUT_MS).then(function (answer) {
        // With PMO_DEMO=off the server has no demo team, so its panel would only disappoint.
        var demoPanel = document.getElementById('demo');
        if (demoPanel && answer.demo === false) demoPanel.hidden = true;
        return handleAnswer(answer, null);
      });
    });
  }

  /* ---------- Composer ---------- */

  function fitComposer() {
    // Grows with the lines typed, up to six; changing rows needs no inline style.
    var lines = els.message.value.split('\n').length;
    els.message.rows = Math.min(6, Math.max(1, lines));
  }

  function submitComposer() {
    if (requestCount > 0) return; // one message at a time; a waiting pick is sent first instead
    var text = els.message.value.trim();
    if (!text) {
      els.message.focus();
      return;
    }
    if (text.length > MAX_TEXT) text = text.slice(0, MAX_TEXT);
    els.message.value = '';
    fitComposer();
    sendText(text);
    els.message.focus();
  }

  function onComposerKey(event) {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submitComposer();
  }

  /* ---------- Buttons, radios and forms in replies (event delegation) ---------- */

  function turnOf(node) {
    return node.closest ? node.closest('#log > .turn') : null;
  }

  function onActionClick(event) {
    var button = event.target.closest('button.action');
    if (!button || !button.dataset.action) return;
    event.preventDefault();
    var label = button.textContent.replace(/\s+/g, ' ').trim();
    var source = turnOf(button);
    flushPicks(null); // a pick made just before the click is recorded before what it asks
    if (label) showUserTurn(label);
    if (!source) bringLogIntoView();
    sendAction(button.dataset.action, {}, source);
  }

  /** A button outside the log (the demo panel) may sit below the chat on a narrow screen. */
  function bringLogIntoView() {
    var box = els.log.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      els.log.scrollIntoView({ block: 'nearest', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
    }
  }

  function onRadioChange(event) {
    var radio = event.target;
    if (!radio.matches || !radio.matches('fieldset.question input[type="radio"]')) return;
    if (!radio.checked || !radio.dataset.action) return;
    var turn = turnOf(radio);
    var action = radio.dataset.action;
    var key = (turn ? turn.dataset.turn : '-') + '|' + radio.name;
    var pending = pendingPicks.get(key);
    if (pending) {
      window.clearTimeout(pending.timer);
    } else {
      setBusy(0, 1); // a test waiting for quiet also waits for the pick to be sent
    }
    var timer = window.setTimeout(function () { sendPick(key); }, PICK_DELAY_MS);
    pendingPicks.set(key, { timer: timer, turn: turn, name: radio.name, value: radio.value, action: action });
  }

  /** Sends a waiting pick now (its debounce over, or something else is about to be sent). */
  function sendPick(key) {
    var pending = pendingPicks.get(key);
    if (!pending) return;
    window.clearTimeout(pending.timer);
    pendingPicks.delete(key);
    sendAction(pending.action, {}, pending.turn);
    setBusy(0, -1);
  }

  /** Sends every waiting pick, oldest first, except those for what is now skipTurn. */
  function flushPicks(skipTurn) {
    Array.from(pendingPicks.keys()).forEach(function (key) {
      var pending = pendingPicks.get(key);
      if (skipTurn && currentTurn(pending.turn) === skipTurn) return;
      sendPick(key);
    });
  }

  /** Drops picks not yet sent for what is now turn (a submit carries every choice anyway). */
  function cancelPicksIn(turn) {
    pendingPicks.forEach(function (pending, key) {
      if (currentTurn(pending.turn) !== turn) return;
      window.clearTimeout(pending.timer);
      pendingPicks.delete(key);
      setBusy(0, -1);
    });
  }

  function formValues(form) {
    var values = {};
    form.querySelectorAll('input[type="radio"]').forEach(function (radio) {
      if (radio.checked && radio.name) values[radio.name] = radio.value;
    });
    form.querySelectorAll('textarea[name], input[type="text"][name], input[type="number"][name], select[name]')
      .forEach(function (field) {
        values[field.name] = field.value;
      });
    // Several picks of one question (a team's services) arrive joined by commas.
    form.querySelectorAll('input[type="checkbox"][name]').forEach(function (box) {
      if (!(box.name in values)) values[box.name] = '';
      if (box.checked) values[box.name] = values[box.name] ? values[box.name] + ',' + box.value : box.value;
    });
    return values;
  }

  function onSurveySubmit(event) {
    var form = event.target;
    if (!form.matches || !form.matches('form.survey')) return;
    event.preventDefault();
    if (!form.dataset.action) return;
    var turn = turnOf(form);
    flushPicks(turn); // picks in other turns go first
    if (turn) cancelPicksIn(turn); // the submit carries every choice of this one anyway
    var submit = form.querySelector('[type="submit"]');
    if (submit) submit.disabled = true;
    sendAction(form.dataset.action, formValues(form), turn).then(function () {
      // Still on screen when the answer did not redraw the form (an error, say).
      if (submit && submit.isConnected) submit.disabled = false;
    });
  }

  /* ---------- Files: the Review button and drag and drop ---------- */

  function onFileChosen() {
    var file = els.file.files && els.file.files[0];
    els.file.value = ''; // choosing the same file again still fires change
    if (file) uploadFile(file);
  }

  function isFileDrag(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    if (!types) return false;
    return Array.prototype.indexOf.call(types, 'Files') !== -1;
  }

  function showDrop(show) {
    if (els.drop.hidden === !show) return;
    els.drop.hidden = !show;
    document.body.classList.toggle('dragging', show);
    if (show) announce(MESSAGES.dropHint);
  }

  /** dragover repeats while a file is over the page; when it stops, the drag has gone. */
  function armDragWatchdog() {
    window.clearTimeout(dragWatchdog);
    dragWatchdog = window.setTimeout(onDragEnd, 400);
  }

  function onDragEnter(event) {
    if (!isFileDrag(event)) return;
    event.preventDefault();
    dragDepth += 1;
    showDrop(true);
  }

  function onDragOver(event) {
    if (!isFileDrag(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    showDrop(true);
    armDragWatchdog();
  }

  function onDragLeave(event) {
    if (!isFileDrag(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) showDrop(false);
  }

  function onDrop(event) {
    if (!isFileDrag(event)) return;
    event.preventDefault();
    onDragEnd();
    var files = event.dataTransfer.files;
    if (files && files.length) uploadFile(files[0]);
  }

  function onDragEnd() {
    window.clearTimeout(dragWatchdog);
    dragDepth = 0;
    showDrop(false);
  }

  function onKeyDown(event) {
    if (event.key === 'Escape' && !els.drop.hidden) onDragEnd();
  }

  /* ---------- Start ---------- */

  function bind() {
    els.composer.addEventListener('submit', function (event) {
      event.preventDefault();
      submitComposer();
    });
    els.message.addEventListener('keydown', onComposerKey);
    els.message.addEventListener('input', fitComposer);
    els.review.addEventListener('click', function () { els.file.click(); });
    els.file.addEventListener('change', onFileChosen);

    document.addEventListener('click', onActionClick);
    els.log.addEventListener('change', onRadioChange);
    els.log.addEventListener('submit', onSurveySubmit);

    window.addEventListener('dragenter', onDragEnter);
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('dragleave', onDragLeave);
    window.addEventListener('drop', onDrop);
    window.addEventListener('dragend', onDragEnd);
    document.addEventListener('keydown', onKeyDown);
  }

  function start() {
    ['log', 'message', 'send', 'file', 'review', 'drop', 'typing', 'composer', 'announce']
      .forEach(function (id) { els[id] = document.getElementById(id); });
    if (!els.log || !els.message || !els.send || !els.composer) return;
    els.message.maxLength = MAX_TEXT;
    bind();
    logIn().then(function (ok) {
      return ok ? loadWelcome() : null;
    }).then(function () {
      document.body.dataset.ready = '1'; // also when the login or the welcome failed
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
