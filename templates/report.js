// coroner report: sortable tables, expand/collapse all, and opening the <details> a link points into.
(function () {
  'use strict';

  function key(cell, numeric) {
    var raw = cell ? (cell.getAttribute('data-sort') ?? cell.textContent ?? '') : '';
    if (numeric) {
      var n = parseFloat(raw);
      return isNaN(n) ? -Infinity : n;
    }
    return raw.toLowerCase();
  }

  function isNumericColumn(rows, col) {
    for (var i = 0; i < rows.length; i++) {
      var cell = rows[i].cells[col];
      var raw = cell ? (cell.getAttribute('data-sort') ?? cell.textContent ?? '') : '';
      if (raw !== '' && !/^-?\d+(\.\d+)?$/.test(raw.trim())) return false;
    }
    return true;
  }

  function sortBy(table, th) {
    var body = table.tBodies[0];
    if (!body) return;
    var col = th.cellIndex;
    var rows = Array.prototype.slice.call(body.rows);
    var type = th.getAttribute('data-type');
    var numeric = type ? type === 'num' : isNumericColumn(rows, col);
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    rows.sort(function (a, b) {
      var x = key(a.cells[col], numeric);
      var y = key(b.cells[col], numeric);
      return x < y ? -dir : x > y ? dir : 0;
    });
    var heads = th.parentNode.children;
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute('aria-sort');
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    rows.forEach(function (r) { body.appendChild(r); });
  }

  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('thead th').forEach(function (th) {
      th.tabIndex = 0;
      th.title = 'Sort by this column';
      th.addEventListener('click', function () { sortBy(table, th); });
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, th); }
      });
    });
  });

  document.querySelectorAll('button[data-expand]').forEach(function (button) {
    button.addEventListener('click', function () {
      var open = button.getAttribute('data-expand') === 'all';
      var scope = button.closest('section') || document;
      scope.querySelectorAll('details').forEach(function (d) { d.open = open; });
    });
  });

  // "Copy as text": the thread's traceback in Python's own format. The clipboard API needs a secure
  // context, which a report opened from file:// may not be: then a selected textarea and copy.
  function copyText(text, done) {
    function fallback() {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  document.querySelectorAll('button.copy-tb').forEach(function (button) {
    button.addEventListener('click', function () {
      var source = document.getElementById(button.getAttribute('data-copy'));
      if (!source) return;
      copyText(source.textContent, function (ok) {
        button.classList.toggle('copied', ok);
        button.title = ok ? 'Copied' : 'Could not copy: select the text in the stack instead';
      });
    });
  });

  // "Show all": the census table beyond its heaviest rows (the rows are there; CSS hides them).
  document.querySelectorAll('button[data-show-all]').forEach(function (button) {
    button.addEventListener('click', function () {
      var table = document.getElementById(button.getAttribute('data-show-all'));
      if (table) table.classList.remove('limited');
      var p = button.parentNode;
      if (p) p.parentNode.removeChild(p);
    });
  });

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (!el) return;
    for (var p = el; p; p = p.parentElement) if (p.tagName === 'DETAILS') p.open = true;
    el.scrollIntoView();
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();
})();
