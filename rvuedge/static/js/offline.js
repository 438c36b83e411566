/* Offline entry for the log's entry page (issue 17).

   Online, the page works as before (the form posts; the htmx check prices as you type). Offline:
   - the entry box is checked against the compact code table of the user's release (/log/offline/table.json,
     cached by the service worker): codes, status, modifiers the file's indicators allow; the credit shown is
     work RVU x units, marked "provisional" until the server prices the encounter;
   - the PHI guard runs on the device with the server's own rules (sent with the table), before anything is
     stored;
   - Log stores the encounter in IndexedDB with a client-made Idempotency-Key, under the signed-in user's id.
   When the connection returns the queue is sent in order through POST /api/log/encounters with its keys (a
   retry never logs twice: the server replays the first answer) and X-RVU-User (the server refuses a queue
   item of another user with 409). The server's credit replaces the provisional one; a refused encounter
   stays in the queue with the server's reason, to fix or discard. Only the signed-in user's items are ever
   shown or sent. */
(function () {
  "use strict";
  var panel = document.getElementById("offline-queue");
  var form = document.getElementById("entry-form");
  var box = document.getElementById("id_entry");
  var check = document.getElementById("check");
  if (!panel || !form || !box || !window.indexedDB) return;

  var USER = panel.getAttribute("data-user");
  var TABLE_URL = panel.getAttribute("data-table");
  var API = panel.getAttribute("data-api");
  var DB_NAME = "rvuedge-offline", STORE = "queue";
  var table = null, phiRules = [], synced = [], syncing = false, lastSync = null;

  // ------------------------------------------------------------------ IndexedDB: the queue
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          var store = req.result.createObjectStore(STORE, { keyPath: "key" });
          store.createIndex("user", "user", { unique: false });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode);
        var out = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(out && "result" in out ? out.result : out); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  /** This user's queued encounters, oldest first (another user's items are never read out). */
  function mine() {
    return tx("readonly", function (s) { return s.index("user").getAll(USER); }).then(function (items) {
      return items.sort(function (a, b) { return a.seq - b.seq; });
    });
  }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function remove(key) { return tx("readwrite", function (s) { s.delete(key); }); }

  // ------------------------------------------------------------------ the code table and the PHI guard
  function useTable(t) {
    table = t;
    phiRules = (t.phi || []).map(function (r) {
      return { kind: r.kind, re: new RegExp(r.pattern, "g" + r.flags), message: r.message };
    });
    table.modifierSet = {};
    t.modifiers.split(" ").forEach(function (m) { table.modifierSet[m] = true; });
  }
  function loadTable() {
    return fetch(TABLE_URL, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("table " + r.status);
      return r.json();
    }).then(useTable).catch(function () {
      // Not controlled by the worker yet (first visit) or a failed fetch: the worker's copy, if any.
      if (!window.caches) return;
      return caches.match(TABLE_URL).then(function (hit) { return hit ? hit.json().then(useTable) : null; });
    });
  }

  /** Online the table is not parsed (nothing on the page's critical path): it is only fetched once the page is
      idle, through the service worker, which keeps it for the next time the network is gone. The body is read to
      the end (not parsed): an unread body would hold the connection open and the page would never be idle. */
  function primeTable() {
    fetch(TABLE_URL, { credentials: "same-origin" })
      .then(function (r) { return r.arrayBuffer(); })
      .catch(function () { /* offline: the kept copy stays */ });
  }
  function whenIdle(fn) {
    if (window.requestIdleCallback) window.requestIdleCallback(fn, { timeout: 5000 }); else setTimeout(fn, 2000);
  }
  var tableLoading = null;
  function ensureTable() {
    if (table) return Promise.resolve(table);
    if (!tableLoading) tableLoading = loadTable().then(function () { tableLoading = null; return table; });
    return tableLoading;
  }

  /** The first patient-identifier-like text in `text`, as the server's PHI guard (rvuedge/phi.py)
      would report it, or null. */
  function findPhi(text) {
    if (!text) return null;
    for (var i = 0; i < phiRules.length; i++) {
      var rule = phiRules[i];
      rule.re.lastIndex = 0;
      var m = rule.re.exec(text);
      if (m) return rule.message.replace("{text}", "'" + m[0].trim() + "'");
    }
    return null;
  }

  // ------------------------------------------------------------------ rapid-entry syntax (rvuedge/pricing/lines.py)
  var CODE_RE = /^(?:\d{5}|\d{4}[FT]|[A-Z]\d{4})$/, MOD_RE = /^[A-Z0-9]{2}$/;
  function parseToken(token) {
    var text = token.toUpperCase(), units = 1, minutes = null;
    var m = /^(.*?)[X*](\d+)(M|MIN)?$/.exec(text);
    if (m && m[1]) {
      var n = parseInt(m[2], 10);
      if (m[3]) {
        if (n < 1 || n > 2000) return { error: "minutes must be 1..2000, got " + n };
        minutes = n; units = n;
      } else {
        if (n < 1 || n > 999) return { error: "units must be 1..999, got " + n };
        units = n;
      }
      text = m[1];
    }
    var parts = text.split("-"), code = parts[0], mods = parts.slice(1);
    if (!CODE_RE.test(code)) return { error: "code '" + code + "' is not a CPT/HCPCS code (5 digits, 4 digits + F/T, or a letter + 4 digits)" };
    if (mods.length > 4) return { error: "at most 4 modifiers per line, got " + mods.length };
    for (var i = 0; i < mods.length; i++) {
      if (!MOD_RE.test(mods[i])) return { error: "modifier '" + mods[i] + "' must be 2 letters or digits" };
      if (mods.indexOf(mods[i]) !== i) return { error: "modifier " + mods[i] + " is repeated" };
    }
    return { code: code, mods: mods, units: units, minutes: minutes };
  }

  /** Check one line against the table: {ok, text, wrvu (hundredths, or null), note} or {ok:false, error}. */
  function checkLine(ln) {
    var row = null, key = ln.code;
    for (var i = 0; i < ln.mods.length && !row; i++) {
      if (table.codes[ln.code + "-" + ln.mods[i]]) { key = ln.code + "-" + ln.mods[i]; row = table.codes[key]; }
    }
    row = row || table.codes[ln.code];
    if (!row) {
      if (ln.mods.indexOf("26") !== -1 || ln.mods.indexOf("TC") !== -1) {
        if (table.codes[ln.code]) return { ok: false, error: "modifier " + (ln.mods.indexOf("26") !== -1 ? "26" : "TC") + " is not valid for " + ln.code + " (no such row in " + table.release + ")" };
      }
      return { ok: false, error: "unknown code " + ln.code + " (not in " + table.release + ")" };
    }
    var work = row[0], status = row[1], ind = row[3], notes = [];
    if (table.refused_status[status]) return { ok: false, error: ln.code + " " + table.refused_status[status] + "; it cannot be billed" };
    for (var j = 0; j < ln.mods.length; j++) {
      var mod = ln.mods[j];
      if (!table.modifierSet[mod]) return { ok: false, error: "unknown modifier " + mod };
      if ((mod === "26" || mod === "TC") && key === ln.code) {
        return { ok: false, error: "modifier " + mod + " is not valid for " + ln.code + " (no " + mod + " row in " + table.release + ")" };
      }
      var rule = table.indicator_rules[mod];
      if (rule && rule.ok.indexOf(ind.charAt(rule.pos)) === -1) {
        var why = mod + " not allowed for " + ln.code + " (" + rule.label + " " + ind.charAt(rule.pos) + ")";
        if (rule.refused) return { ok: false, error: why };
        notes.push(why + ": no credit");
      }
    }
    var hundredths = Math.round(parseFloat(work) * 100) * (ln.minutes === null ? ln.units : 1);
    if (status === "J") return { ok: true, wrvu: null, note: "anaesthesia: credited when the server prices it" };
    if (status === "C") return { ok: true, wrvu: hundredths, note: "contractor priced" };
    if (status !== "A" && status !== "R" && status !== "T") return { ok: true, wrvu: 0, note: "status " + status + ": no Medicare payment" };
    if (notes.length) return { ok: true, wrvu: 0, note: notes.join("; ") };
    return { ok: true, wrvu: hundredths, note: "" };
  }

  function money(h) { return (h / 100).toFixed(2); }

  /** The whole box: {items:[{text, ok, error|wrvu,note}], ok, total (hundredths), error}. */
  function checkEntry(text) {
    var out = { items: [], ok: true, total: 0, error: null };
    var tokens = text.trim().split(/[\s,;]+/).filter(Boolean);
    var phi = findPhi(tokens.filter(function (t) { return t.charAt(0) !== "@"; }).join(" "));
    tokens.forEach(function (tok) {
      if (tok.charAt(0) === "@") {
        if (!/^@\d{4}-\d{2}-\d{2}$/.test(tok)) { out.ok = false; out.error = tok + ": a date of service is written @YYYY-MM-DD"; }
        return;
      }
      var ln = parseToken(tok);
      var item = { text: tok.toUpperCase() };
      if (ln.error) { item.ok = false; item.error = ln.error; }
      else {
        var r = checkLine(ln);
        item.ok = r.ok; item.error = r.error; item.wrvu = r.wrvu; item.note = r.note;
        if (r.ok && r.wrvu !== null) out.total += r.wrvu;
        if (r.ok && r.wrvu === null) out.unpriced = true;
      }
      if (!item.ok) out.ok = false;
      out.items.push(item);
    });
    if (phi && !out.ok) out.error = "The codes box " + phi + ". Type only codes, modifiers and units (and @date of service); nothing was saved.";
    if (!out.items.length) { out.ok = false; out.error = out.error || "Type at least one code, e.g. 99214 20610-RT"; }
    return out;
  }

  // ------------------------------------------------------------------ rendering
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function renderCheck() {
    if (navigator.onLine || !check) return;
    check.textContent = "";
    if (!box.value.trim()) return;
    if (!table) {
      if (!tableLoading) {
        ensureTable().then(function (t) {
          if (t) { renderCheck(); return; }
          check.textContent = "";
          check.appendChild(el("p", "check-error", "Offline, and this device has no code table yet: open the log once online."));
        });
      }
      return;
    }
    var res = checkEntry(box.value);
    var ul = el("ul", "check-list");
    res.items.forEach(function (it) {
      var li = el("li", it.ok ? "ok" : "bad");
      li.appendChild(el("span", "tok mono", it.text));
      if (it.ok) {
        li.appendChild(el("span", "desc", it.note || "in " + table.release));
        li.appendChild(el("span", "w", it.wrvu === null ? "…" : money(it.wrvu) + " wRVU"));
      } else {
        li.appendChild(el("span", "err", it.error));
      }
      ul.appendChild(li);
    });
    check.appendChild(ul);
    var total = el("p", "check-total offline-total");
    total.appendChild(document.createTextNode((res.ok ? "Enter queues " : "The good lines credit ")));
    total.appendChild(el("strong", null, money(res.total) + " wRVU"));
    total.appendChild(document.createTextNode(" "));
    total.appendChild(el("span", "badge provisional", res.unpriced ? "provisional; anaesthesia priced on sync" : "provisional"));
    total.appendChild(document.createTextNode(" · offline, " + table.release + " table; the server prices it when you are back online"));
    check.appendChild(total);
    if (res.error) check.appendChild(el("p", "check-error", res.error));
  }

  function renderQueue() {
    return mine().then(function (items) {
      panel.textContent = "";
      var waiting = items.filter(function (i) { return i.state !== "failed"; }).length;
      var failed = items.length - waiting;
      panel.hidden = !items.length && !synced.length && navigator.onLine;
      var head = el("h2", "queue-head");
      head.appendChild(document.createTextNode(navigator.onLine ? "Sync " : "Offline "));
      var count = el("span", "queue-count", items.length + " waiting");
      count.setAttribute("data-count", String(items.length));
      head.appendChild(count);
      if (failed) head.appendChild(el("span", "badge warn", failed + " need a fix"));
      panel.appendChild(head);
      var status = el("p", "queue-status");
      status.setAttribute("role", "status");
      status.textContent = navigator.onLine
        ? (syncing ? "Sending…" : (items.length ? (lastSync || "Back online.") : "Everything is synced."))
        : "You are offline. Encounters you log are kept on this device and sent when the connection returns.";
      panel.appendChild(status);
      if (items.length) {
        var ul = el("ul", "queue-list");
        items.forEach(function (it) {
          var li = el("li", "queue-item " + it.state);
          li.setAttribute("data-key", it.key);
          li.appendChild(el("span", "tok mono", it.body.entry));
          li.appendChild(el("span", "qdate", it.body.date || ""));
          var w = el("span", "w");
          if (it.provisional === null) {
            w.appendChild(el("span", "badge provisional", "priced on sync"));
          } else {
            w.appendChild(document.createTextNode(it.provisional + " wRVU "));
            w.appendChild(el("span", "badge provisional", "provisional"));
          }
          li.appendChild(w);
          if (it.state === "failed") {
            li.appendChild(el("span", "err reason", it.reason));
            var actions = el("span", "queue-actions");
            var fix = el("button", "secondary fix", "Fix");
            fix.type = "button"; fix.setAttribute("data-fix", it.key);
            var drop = el("button", "secondary discard", "Discard");
            drop.type = "button"; drop.setAttribute("data-discard", it.key);
            actions.appendChild(fix); actions.appendChild(drop);
            li.appendChild(actions);
          } else if (it.reason) {
            li.appendChild(el("span", "why reason", it.reason));
          }
          ul.appendChild(li);
        });
        panel.appendChild(ul);
      }
      if (synced.length) {
        var done = el("ul", "queue-list synced-list");
        synced.forEach(function (s) {
          var li = el("li", "queue-item synced");
          li.appendChild(el("span", "tok mono", s.entry));
          li.appendChild(el("span", "qdate", s.date));
          var w = el("span", "w");
          w.appendChild(el("strong", "server-credit", s.wrvu + " wRVU"));
          w.appendChild(document.createTextNode(" "));
          w.appendChild(el("span", "badge ok", s.replayed ? "synced (already logged)" : "synced"));
          li.appendChild(w);
          var a = el("a", "detail", "View");
          a.href = "/log/e/" + s.id + "/";
          li.appendChild(a);
          done.appendChild(li);
        });
        panel.appendChild(done);
      }
      if (navigator.onLine && waiting && !syncing) {
        var again = el("button", "secondary sync-now", "Sync now");
        again.type = "button";
        panel.appendChild(again);
      }
    });
  }

  /** One redraw for a burst of changes (a sync of 100 items redraws a few times, not 100). */
  var renderPending = null;
  function scheduleRender() {
    if (!renderPending) {
      renderPending = new Promise(function (resolve) { setTimeout(resolve, 100); }).then(function () {
        renderPending = null;
        return renderQueue();
      });
    }
    return renderPending;
  }

  // ------------------------------------------------------------------ queueing
  function field(id) { var e = document.getElementById(id); return e ? e.value : ""; }

  function queue() {
    if (!table) {
      return ensureTable().then(function (t) { if (t) return queue(); renderCheck(); return false; });
    }
    var res = checkEntry(box.value);
    if (!res.ok) { renderCheck(); return Promise.resolve(false); }
    var labels = { id_site: "Site label", id_attending: "Attending label", id_category: "Case category", id_notes: "Notes" };
    for (var id in labels) {
      var why = findPhi(field(id));
      if (why) {
        check.textContent = "";
        check.appendChild(el("p", "check-error", labels[id] + " " + why + ". Remove patient identifiers: the log keeps codes, dates of service, roles and labels only. Nothing was stored."));
        return Promise.resolve(false);
      }
    }
    var now = new Date();
    var localToday = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
    var body = {
      entry: box.value.trim().replace(/\s+/g, " "),
      date: field("id_date") || localToday,
      setting: field("id_setting") || null, pos: field("id_pos") || null, role: field("id_role") || null,
      site: field("id_site"), attending: field("id_attending"), category: field("id_category"), notes: field("id_notes")
    };
    var key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : "q-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
    var item = { key: "offline:" + key, user: USER, seq: Date.now() + Math.random(), body: body,
                 provisional: res.unpriced ? null : money(res.total), state: "waiting", reason: "", created: now.toISOString() };
    return put(item).then(function () {
      box.value = "";
      ["id_notes"].forEach(function (id) { var e = document.getElementById(id); if (e) e.value = ""; });
      check.textContent = "";
      check.appendChild(el("p", "offline-queued", "Queued on this device: " + body.entry + " · " +
        (item.provisional === null ? "priced on sync" : item.provisional + " wRVU (provisional)")));
      box.focus();
      return renderQueue().then(function () { return true; });
    });
  }

  // ------------------------------------------------------------------ sync
  function csrf() {
    var m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    if (m) return decodeURIComponent(m[1]);
    var holder = document.querySelector("[hx-headers]");
    try { return JSON.parse(holder.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function send(item) {
    return fetch(API, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": item.key,
                 "X-CSRFToken": csrf(), "X-RVU-User": USER },
      body: JSON.stringify(item.body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data, replayed: r.headers.get("Idempotent-Replayed") === "true" }; });
    });
  }

  function syncAll() {
    if (syncing || !navigator.onLine) return Promise.resolve();
    syncing = true;
    var run = function () {
      return mine().then(function (items) {
        var todo = items.filter(function (i) { return i.state !== "failed"; });
        renderQueue();
        var chain = Promise.resolve(true);
        todo.forEach(function (item) {
          chain = chain.then(function (go) {
            if (!go) return false;
            return send(item).then(function (res) {
              if (res.status === 200 || res.status === 201) {
                synced.push({ id: res.data.id, entry: res.data.entry, date: res.data.date, wrvu: res.data.total_wrvu, replayed: res.replayed });
                return remove(item.key).then(function () { scheduleRender(); return true; });
              }
              var detail = (res.data && res.data.detail) || ("HTTP " + res.status);
              if (res.status === 401 || res.status === 403) {
                item.reason = "Not sent: you are signed out or your session expired. Sign in again; the queue stays on this device and is sent then.";
                lastSync = item.reason;
                return put(item).then(function () { return false; });
              }
              if (res.status === 409 || res.status === 422 || res.status === 400) {
                item.state = "failed";
                item.reason = "Refused by the server: " + detail;
                return put(item).then(function () { return true; });
              }
              item.reason = "Not sent yet (server answered " + res.status + "); it will be retried.";
              return put(item).then(function () { return false; });
            }, function () {
              item.reason = "Not sent yet: no connection; it will be retried.";
              return put(item).then(function () { return false; });
            });
          });
        });
        return chain;
      });
    };
    var before = synced.length;
    var done = function () {
      syncing = false;
      var sent = synced.length - before;
      if (sent) {
        lastSync = "Back online: " + sent + " sent, credited by the server.";
        refreshRecent();
      }
      return mine().then(function (left) {
        var fix = left.filter(function (i) { return i.state === "failed"; }).length;
        if (fix) lastSync = (lastSync || "Back online.") + " " + fix + " refused: fix or discard below.";
        return renderQueue();
      });
    };
    var p = (navigator.locks && navigator.locks.request)
      ? navigator.locks.request("rvuedge-sync-" + USER, run) : run();
    return p.then(done, done);
  }

  /** After a sync, the page's "Recent" list and today's total as the server now has them. */
  function refreshRecent() {
    var section = document.querySelector("section.today");
    if (!section || !window.DOMParser) return;
    fetch(window.location.pathname, { credentials: "same-origin" }).then(function (r) {
      return r.ok && !r.redirected ? r.text() : null;
    }).then(function (html) {
      if (!html) return;
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("section.today");
      if (fresh) section.replaceWith(fresh);
    }).catch(function () { /* offline again: the list stays as it was */ });
  }

  // ------------------------------------------------------------------ wiring
  form.addEventListener("submit", function (ev) {
    if (navigator.onLine) return;  // online: the form posts as always
    ev.preventDefault();
    ev.stopImmediatePropagation();
    queue();
  }, true);

  box.addEventListener("input", renderCheck);
  // Offline the htmx check cannot reach the server: the table check above answers instead.
  document.addEventListener("htmx:beforeRequest", function (ev) {
    // (A delayed check may fire just after Log queued the entry and emptied the box: keep the "Queued" note.)
    if (!navigator.onLine) { ev.preventDefault(); if (box.value.trim()) renderCheck(); }
  });

  panel.addEventListener("click", function (ev) {
    var fix = ev.target.closest("[data-fix]"), drop = ev.target.closest("[data-discard]");
    if (ev.target.closest(".sync-now")) { syncAll(); return; }
    var key = fix ? fix.getAttribute("data-fix") : drop ? drop.getAttribute("data-discard") : null;
    if (!key) return;
    tx("readonly", function (s) { return s.get(key); }).then(function (item) {
      if (!item || item.user !== USER) return;
      if (fix) {
        box.value = item.body.entry + " ";
        var date = document.getElementById("id_date");
        if (date && item.body.date) date.value = item.body.date;
        box.dispatchEvent(new Event("input", { bubbles: true }));
        box.focus();
      }
      return remove(key).then(renderQueue);
    });
  });

  window.addEventListener("online", function () { renderQueue().then(syncAll); });
  window.addEventListener("offline", function () { renderQueue(); ensureTable().then(renderCheck); });

  if (navigator.onLine) {
    renderQueue().then(syncAll);
    whenIdle(primeTable);
  } else {
    ensureTable().then(renderCheck).then(renderQueue);
  }
  // Once the worker controls the page (its first visit), fetch the table through it so that it is kept.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("controllerchange", function () { if (navigator.onLine) whenIdle(primeTable); });
  }
})();
