// Progressive enhancement only: the forms work without JavaScript.
(function () {
  var tz = document.getElementById('timezone');
  if (tz && (tz.value === '' || tz.value === 'UTC') && !document.getElementById('form-errors')) {
    try {
      var detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (detected) tz.value = detected;
    } catch (e) { /* keep UTC */ }
  }
  var weekday = document.getElementById('field-weekday');
  function sync() {
    var weekly = document.querySelector('input[name="frequency"][value="weekly"]');
    if (weekday && weekly) weekday.hidden = !weekly.checked;
  }
  document.querySelectorAll('input[name="frequency"]').forEach(function (r) { r.addEventListener('change', sync); });
  sync();

  // The topic grid starts folded so that on a phone the keywords and the button are near; wide screens have room.
  var topics = document.getElementById('field-topics');
  if (topics && window.matchMedia && window.matchMedia('(min-width: 800px)').matches) topics.open = true;

  // An error summary takes the focus, so screen readers announce it.
  var errors = document.getElementById('form-errors');
  if (errors) errors.focus();

  // Live preview: what these interests would have picked last week.
  var box = document.getElementById('preview');
  var form = box && box.closest('form');
  if (!box || !form || !window.fetch) return;
  var timer = null;
  var seq = 0;
  function query() {
    var q = new URLSearchParams();
    ['keywords', 'exclude'].forEach(function (name) {
      var el = form.querySelector('[name="' + name + '"]');
      if (el && el.value.trim()) q.append(name, el.value);
    });
    form.querySelectorAll('input[name="topics"]:checked').forEach(function (c) { q.append('topics', c.value); });
    return q;
  }
  function show(answer) {
    box.textContent = '';
    box.hidden = false;
    box.className = 'preview' + (answer.count ? '' : ' empty');
    var p = document.createElement('p');
    var n = answer.capped ? answer.count + '+' : String(answer.count);
    p.textContent = answer.count
      ? 'Last week this would have sent you ' + n + ' paper' + (answer.count === 1 ? '' : 's') + '.'
      : 'Last week this would have sent you 0 papers. ' + answer.warning;
    box.appendChild(p);
    if (answer.papers.length) {
      var ol = document.createElement('ol');
      answer.papers.forEach(function (paper) {
        var li = document.createElement('li');
        li.textContent = paper.title;
        ol.appendChild(li);
      });
      box.appendChild(ol);
    }
  }
  function update() {
    var q = query();
    if (!q.has('keywords') && !q.has('topics')) { box.hidden = true; return; }
    var mine = ++seq;
    fetch('/api/preview?' + q.toString(), { headers: { accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) { if (answer && mine === seq) show(answer); })
      .catch(function () { /* the preview is a help, not a requirement */ });
  }
  function later() { clearTimeout(timer); timer = setTimeout(update, 300); }
  form.addEventListener('input', function (e) { if (e.target.name === 'keywords' || e.target.name === 'exclude') later(); });
  form.addEventListener('change', function (e) { if (e.target.name === 'topics') later(); });
  update();
})();
