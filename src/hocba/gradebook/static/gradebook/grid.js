/* Score entry grid: spreadsheet keys, paste a column from Excel, autosave with per-cell status.
 *
 * The server decides everything (valid values, averages, conflicts): each save sends the edited cells as
 * {student_id, slot, old, new, absent, reason}, where "old" is the value this page last saw, and gets back
 * per-cell results. Saves are sent one at a time so that "old" is always the value of the previous save.
 */
(function () {
  "use strict";

  var grid = document.getElementById("gb-grid");
  var configEl = document.getElementById("gb-config");
  if (!grid || !configEl) return;
  var config = JSON.parse(configEl.textContent);
  var statusEl = document.getElementById("gb-status");
  var reasonEl = document.getElementById("gb-reason");
  var globalError = document.getElementById("gb-global-error");
  var DEBOUNCE_MS = 700;

  var matrix = [];
  grid.querySelectorAll("tbody tr").forEach(function (tr) {
    var cells = Array.prototype.slice.call(tr.querySelectorAll("input.gb-input"));
    if (cells.length) matrix.push(cells);
  });
  var byKey = {};
  matrix.forEach(function (cells, r) {
    cells.forEach(function (el, c) {
      el._r = r;
      el._c = c;
      el._shown = el.value;
      byKey[el.dataset.student + ":" + el.dataset.slot] = el;
    });
  });

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (e) { /* fall back to the cookie */ }
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // --- status ---------------------------------------------------------------------------------------
  var dirty = new Set();
  var timers = new Map();
  var inflight = false;
  var again = false;
  var blocked = false;

  function problemCount() {
    return grid.querySelectorAll("td.is-error, td.is-conflict").length;
  }

  var problemsEl = document.getElementById("gb-problems");

  function listProblems() {
    if (!problemsEl) return;
    var list = problemsEl.querySelector("ul");
    list.textContent = "";
    var boxes = grid.querySelectorAll("td.is-error, td.is-conflict");
    boxes.forEach(function (box) {
      var el = box.querySelector("input.gb-input");
      var li = document.createElement("li");
      var go = document.createElement("button");
      go.type = "button";
      go.className = "link";
      go.textContent = el.getAttribute("aria-label");
      go.addEventListener("click", function () { el.focus(); el.select(); });
      li.appendChild(go);
      li.appendChild(document.createTextNode(": " + (box.dataset.msg || "")));
      list.appendChild(li);
    });
    problemsEl.hidden = boxes.length === 0;
  }

  function setStatus() {
    listProblems();
    if (!statusEl) return;
    var problems = problemCount();
    statusEl.classList.remove("is-saved", "is-dirty", "is-saving");
    if (inflight) {
      statusEl.textContent = "Đang lưu…";
      statusEl.classList.add("is-saving");
    } else if (dirty.size || problems) {
      var n = dirty.size + problems;
      statusEl.textContent = "Chưa lưu (" + n + " ô)";
      statusEl.classList.add("is-dirty");
    } else {
      statusEl.textContent = "Đã lưu";
      statusEl.classList.add("is-saved");
    }
  }

  function showGlobal(message) {
    if (!globalError) return;
    globalError.textContent = message || "";
    globalError.hidden = !message;
  }

  // --- cells ----------------------------------------------------------------------------------------
  function td(el) { return el.parentNode; }

  function msgEl(el) { return td(el).querySelector(".gb-msg"); }

  function clearProblem(el) {
    td(el).classList.remove("is-error", "is-conflict");
    var m = msgEl(el);
    m.hidden = true;
    m.textContent = "";
    el.removeAttribute("aria-invalid");
    el._conflict = null;
  }

  function showError(el, message) {
    clearProblem(el);
    td(el).classList.add("is-error");
    el.setAttribute("aria-invalid", "true");
    el._errorValue = el.value;
    var m = msgEl(el);
    m.textContent = message;
    m.hidden = false;
    td(el).dataset.msg = message;
  }

  function showConflict(el, c) {
    clearProblem(el);
    td(el).classList.add("is-conflict");
    el._conflict = c;
    el._errorValue = el.value;
    var m = msgEl(el);
    m.textContent = "";
    var p = document.createElement("span");
    p.textContent = td(el).dataset.msg = "Ô này vừa được " + (c.updated_by || "người khác") + " sửa thành \u201c" +
      (c.display || "(trống)") + "\u201d" + (c.updated_at ? " lúc " + c.updated_at : "") +
      ". Giá trị của bạn \u201c" + (el.value || "(trống)") + "\u201d chưa được lưu. ";
    var take = document.createElement("button");
    take.type = "button";
    take.className = "link";
    take.textContent = "Dùng giá trị mới";
    take.addEventListener("click", function () {
      el.dataset.old = c.current;
      el.dataset.absent = "0";
      el.value = c.display;
      el._shown = c.display;
      clearProblem(el);
      dirty.delete(el);
      setStatus();
      el.focus();
    });
    var keep = document.createElement("button");
    keep.type = "button";
    keep.className = "link";
    keep.textContent = "Ghi giá trị của tôi";
    keep.addEventListener("click", function () {
      el.dataset.old = c.current;
      el._shown = c.display;
      clearProblem(el);
      markDirty(el, true);
    });
    m.appendChild(p);
    m.appendChild(take);
    m.appendChild(document.createTextNode(" · "));
    m.appendChild(keep);
    m.hidden = false;
    el.setAttribute("aria-invalid", "true");
  }

  function isChanged(el) {
    return el.value.trim() !== (el._shown || "").trim();
  }

  function markDirty(el, now) {
    if (el.readOnly) return;
    if (!isChanged(el)) {
      dirty.delete(el);
      if (!td(el).classList.contains("is-conflict")) clearProblem(el);
      setStatus();
      return;
    }
    dirty.add(el);
    blocked = false;
    clearTimeout(timers.get(el));
    if (now) {
      flush();
    } else {
      timers.set(el, setTimeout(flush, DEBOUNCE_MS));
    }
    setStatus();
  }

  function editOf(el) {
    var text = el.value.trim();
    var slot = el.dataset.slot;
    var absent = slot !== "comment" && text.toUpperCase() === "V";
    return {
      student_id: Number(el.dataset.student), slot: slot, old: el.dataset.old || "",
      new: absent ? "" : text, absent: absent, reason: reasonEl ? reasonEl.value.trim() : ""
    };
  }

  function applyCell(cell, sentValue) {
    var el = byKey[cell.student_id + ":" + cell.slot];
    if (!el) return;
    el.dataset.old = cell.value;
    el.dataset.absent = cell.absent ? "1" : "0";
    el._shown = cell.display;
    clearProblem(el);
    var box = td(el);
    box.classList.toggle("is-absent", !!cell.absent);
    box.classList.toggle("is-makeup", !!cell.makeup);
    if (cell.makeup) box.title = "Kiểm tra bù: " + cell.makeup_by + " lúc " + cell.makeup_at;
    if (el.value === sentValue) {
      el.value = cell.display;
      dirty.delete(el);
    } else if (isChanged(el)) {
      dirty.add(el);  // typed on while the save was under way: save that too
      again = true;
    }
  }

  function applyResults(resultMap) {
    Object.keys(resultMap || {}).forEach(function (sid) {
      var r = resultMap[sid];
      var res = grid.querySelector('[data-res-for="' + sid + '"]');
      if (!res) return;
      res.textContent = "";
      var value = document.createElement("span");
      value.className = "gb-res-value";
      value.textContent = r.shown || "";
      res.appendChild(value);
      if (r.warnings && r.warnings.length) {
        res.title = r.warnings.join("; ");
        var w = document.createElement("span");
        w.className = "gb-warn";
        w.setAttribute("aria-label", "Cảnh báo: " + r.warnings.join("; "));
        w.textContent = " \u26a0";
        res.appendChild(w);
      } else {
        res.removeAttribute("title");
      }
      var year = grid.querySelector('[data-year-for="' + sid + '"] .gb-year-value');
      if (year) year.textContent = r.year || "";  // học kì II: ĐTBmcn (or Đ/CĐ) computed by the server
    });
  }

  // --- saving ---------------------------------------------------------------------------------------
  var waiters = [];

  function settle() {
    if (inflight || dirty.size) return;
    var w = waiters;
    waiters = [];
    w.forEach(function (fn) { fn(); });
  }

  function saveAll() {
    return new Promise(function (resolve) {
      waiters.push(resolve);
      flush();
      settle();
    });
  }

  function flush() {
    if (inflight) {
      again = true;
      return;
    }
    if (blocked) {
      var w = waiters; waiters = []; w.forEach(function (fn) { fn(); });
      return;
    }
    var batch = [];
    dirty.forEach(function (el) {
      clearTimeout(timers.get(el));
      if (!isChanged(el)) {
        dirty.delete(el);
        return;
      }
      var box = td(el);
      if ((box.classList.contains("is-error") || box.classList.contains("is-conflict")) && el._errorValue === el.value) {
        dirty.delete(el);  // refused as it is: wait until the teacher changes it
        return;
      }
      batch.push(el);
    });
    if (!batch.length) {
      setStatus();
      settle();
      return;
    }
    var sent = new Map();
    batch.forEach(function (el) {
      sent.set(el, el.value);
      dirty.delete(el);
      td(el).classList.add("is-saving");
    });
    inflight = true;
    setStatus();
    fetch(config.saveUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify({edits: batch.map(editOf)})
    }).then(function (resp) {
      return resp.json().catch(function () {
        return {ok: false, message: "Máy chủ trả lời không hợp lệ (mã " + resp.status + ")."};
      }).then(function (data) { return {status: resp.status, data: data}; });
    }).then(function (res) {
      var data = res.data;
      if (res.status === 200 && data.ok) {
        showGlobal("");
        data.cells.forEach(function (cell) {
          var el = byKey[cell.student_id + ":" + cell.slot];
          applyCell(cell, el ? sent.get(el) : undefined);
        });
        applyResults(data.results);
        if (statusEl && data.saved_at) statusEl.dataset.savedAt = data.saved_at;
        return;
      }
      var refused = new Set();
      if (res.status === 422 && data.errors) {
        data.errors.forEach(function (e) {
          var el = byKey[e.student_id + ":" + e.slot];
          if (el) { showError(el, e.message); refused.add(el); }
        });
      } else if (res.status === 409 && data.conflicts) {
        data.conflicts.forEach(function (c) {
          var el = byKey[c.student_id + ":" + c.slot];
          if (el) { showConflict(el, c); refused.add(el); }
        });
      } else {
        showGlobal(data.message || "Không lưu được.");
        blocked = true;  // locked, no permission…: retrying would not help until the page changes
      }
      batch.forEach(function (el) {
        if (!refused.has(el) && isChanged(el)) dirty.add(el);
      });
      if (!blocked && refused.size) again = true;
    }).catch(function () {
      batch.forEach(function (el) { if (isChanged(el)) dirty.add(el); });
      showGlobal("Mất kết nối với máy chủ; điểm chưa lưu sẽ được gửi lại sau vài giây.");
      setTimeout(flush, 5000);
    }).then(function () {
      batch.forEach(function (el) { td(el).classList.remove("is-saving"); });
      inflight = false;
      setStatus();
      if (again) {
        again = false;
        flush();
      }
      settle();
    });
  }

  // --- keys, paste, focus ---------------------------------------------------------------------------
  var lastFocused = null;

  function moveTo(r, c) {
    if (r < 0 || r >= matrix.length) return false;
    var row = matrix[r];
    if (c < 0 || c >= row.length) return false;
    row[c].focus();
    row[c].select();
    return true;
  }

  grid.addEventListener("focusin", function (e) {
    if (e.target.classList && e.target.classList.contains("gb-input")) lastFocused = e.target;
  });

  grid.addEventListener("input", function (e) {
    var el = e.target;
    if (!el.classList.contains("gb-input")) return;
    if (td(el).classList.contains("is-error") || td(el).classList.contains("is-conflict")) {
      if (el.value !== el._errorValue && !el._conflict) clearProblem(el);
    }
    markDirty(el, false);
  });

  grid.addEventListener("focusout", function (e) {
    var el = e.target;
    if (el.classList && el.classList.contains("gb-input") && dirty.has(el)) {
      clearTimeout(timers.get(el));
      flush();
    }
  });

  grid.addEventListener("keydown", function (e) {
    var el = e.target;
    if (!el.classList.contains("gb-input") || e.altKey || e.ctrlKey || e.metaKey) return;
    var r = el._r, c = el._c;
    var atStart = el.selectionStart === 0 && el.selectionEnd === 0;
    var all = el.selectionStart === 0 && el.selectionEnd === el.value.length;
    var atEnd = el.selectionStart === el.value.length;
    var moved = false;
    switch (e.key) {
      case "Enter":
        moved = moveTo(e.shiftKey ? r - 1 : r + 1, c) || true;
        break;
      case "ArrowDown":
        moved = moveTo(r + 1, c) || true;
        break;
      case "ArrowUp":
        moved = moveTo(r - 1, c) || true;
        break;
      case "ArrowLeft":
        if (atStart || all) moved = moveTo(r, c - 1) || true;
        break;
      case "ArrowRight":
        if (atEnd || all) moved = moveTo(r, c + 1) || true;
        break;
      case "Escape":
        if (isChanged(el)) {
          el.value = el._shown;
          markDirty(el, false);
          moved = true;
        }
        break;
      default:
        return;
    }
    if (moved) e.preventDefault();
  });

  grid.addEventListener("paste", function (e) {
    var el = e.target;
    if (!el.classList.contains("gb-input") || el.readOnly) return;
    var text = (e.clipboardData || window.clipboardData).getData("text");
    var trimmed = text.replace(/[\r\n]+$/, "");
    if (!/[\t\r\n]/.test(trimmed)) return;  // one value: the browser pastes it as usual
    e.preventDefault();
    var lines = trimmed.replace(/\r\n?/g, "\n").split("\n");
    var r0 = el._r, c0 = el._c, last = el;
    lines.forEach(function (line, i) {
      line.split("\t").forEach(function (value, j) {
        var row = matrix[r0 + i];
        var target = row && row[c0 + j];
        if (!target || target.readOnly) return;
        target.value = value.trim();
        clearProblem(target);
        if (isChanged(target)) dirty.add(target); else dirty.delete(target);
        last = target;
      });
    });
    blocked = false;
    last.focus();
    last.select();
    flush();
  });

  var absentButton = document.getElementById("gb-absent");
  if (absentButton) {
    absentButton.addEventListener("mousedown", function (e) { e.preventDefault(); });
    absentButton.addEventListener("click", function () {
      var el = lastFocused;
      if (!el || el.readOnly || el.dataset.slot === "comment") {
        showGlobal("Hãy chọn một ô ĐĐGtx, ĐĐGgk hoặc ĐĐGck trước khi bấm Vắng.");
        return;
      }
      el.value = "V";
      markDirty(el, true);
      el.focus();
    });
  }
  var saveNow = document.getElementById("gb-save-now");
  if (saveNow) saveNow.addEventListener("click", function () { blocked = false; flush(); });
  if (reasonEl) {
    reasonEl.addEventListener("change", function () {
      blocked = false;
      grid.querySelectorAll("td.is-error input.gb-input").forEach(function (el) {
        el._errorValue = null;
        dirty.add(el);
      });
      flush();
    });
  }

  // --- confirmation dialog --------------------------------------------------------------------------
  var dialog = document.getElementById("gb-confirm-dialog");
  var openButton = document.getElementById("gb-confirm-open");
  if (dialog && openButton) {
    openButton.addEventListener("click", function () {
      saveAll().then(function () {
        var filled = 0, absent = 0;
        matrix.forEach(function (cells) {
          var full = true;
          cells.forEach(function (el) {
            if (el.dataset.slot === "comment") return;
            if (el.dataset.absent === "1") absent += 1;
            else if (!el.dataset.old) full = false;
          });
          if (full) filled += 1;
        });
        var f = document.getElementById("gb-confirm-filled");
        if (f) f.textContent = String(filled);
        var a = document.getElementById("gb-confirm-absent");
        if (a) a.textContent = String(absent);
        if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
      });
    });
    document.getElementById("gb-confirm-cancel").addEventListener("click", function () { dialog.close(); });
    document.getElementById("gb-confirm-form").addEventListener("submit", function (e) {
      if (dirty.size || inflight) {
        e.preventDefault();
        var form = e.target;
        saveAll().then(function () { form.submit(); });
      }
    });
  }

  window.addEventListener("beforeunload", function (e) {
    if (dirty.size || inflight) {
      e.preventDefault();
      e.returnValue = "";
    }
  });
  setStatus();
})();
