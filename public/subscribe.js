// Progressive enhancement only: the form works without JavaScript.
(function () {
  var tz = document.getElementById('timezone');
  if (tz && (tz.value === '' || tz.value === 'UTC')) {
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
})();
