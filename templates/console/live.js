// Tells a person that what the page shows has changed (a client decided, a timer fired, another
// operator acted) and offers to show it; never reloads by itself, so nothing typed is lost.
(() => {
  const source = document.getElementById('main')?.getAttribute('data-live');
  if (!source || !window.EventSource) return;
  const events = new EventSource(source);
  events.addEventListener('changed', () => {
    events.close();
    const text = document.createElement('p');
    text.textContent = 'This page has changed since it was loaded. ';
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Show the changes';
    button.addEventListener('click', () => window.location.reload());
    text.append(button);
    const notice = document.getElementById('live');
    notice.className = 'box info';
    notice.append(text);
  });
})();

// A chosen file fills the text box it names, where its rows can be read before they are sent; the
// box alone works without this script (paste the rows).
document.querySelectorAll('input[type=file][data-fills]').forEach((input) => {
  input.addEventListener('change', async () => {
    const box = document.getElementById(input.getAttribute('data-fills'));
    const file = input.files?.[0];
    if (box && file) box.value = await file.text();
  });
});
