// The notes micro app: plain JavaScript, no build step, same lifecycle ABI and host API as the
// Rust apps. Each note is a durable command; its badge follows the command's delivery state.

const LABELS = {
  pending: 'Saved on this device',
  inflight: 'Sending…',
  delivered: 'Sent',
  dead: 'Not accepted',
};

let mounted = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function badge(item, status) {
  const label = item.querySelector('.mfe-badge');
  label.textContent = LABELS[status] ?? status;
  label.className = `mfe-badge ${status === 'inflight' ? 'sending' : status === 'dead' ? 'failed' : status}`;
  item.dataset.status = status;
}

export async function bootstrap() {}

export async function mount({ element, host }) {
  const input = el('input', {
    id: 'note-text',
    type: 'text',
    'data-testid': 'note-text',
    autocomplete: 'off',
    maxlength: '500',
    placeholder: 'A thought worth keeping',
  });
  const button = el('button', { type: 'submit', 'data-testid': 'note-add', text: 'Add note' });
  const error = el('p', { role: 'alert', class: 'mfe-error', 'data-testid': 'note-error' });
  const list = el('ul', { class: 'mfe-list', 'data-testid': 'note-list' });
  const form = el(
    'form',
    { class: 'mfe-form', 'data-testid': 'note-form' },
    el('label', { for: 'note-text', text: 'New note' }),
    input,
    button,
  );
  const root = el(
    'section',
    { class: 'mfe-card', 'data-testid': 'notes-app', 'aria-labelledby': 'notes-heading' },
    el('h2', { id: 'notes-heading', text: 'Notes' }),
    form,
    error,
    list,
  );
  const items = new Map();
  const unsubscribe = host.onCommandStatus(({ id, status }) => {
    const item = items.get(id);
    if (item) badge(item, status);
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      error.textContent = 'Write something first.';
      return;
    }
    button.disabled = true;
    try {
      const id = await host.dispatch('note.add', 'notes', { text });
      const item = el(
        'li',
        { 'data-testid': 'note-item', 'data-command-id': id },
        el('span', { class: 'title', text }),
        el('span', { class: 'mfe-badge' }),
      );
      items.set(id, item);
      badge(item, host.commandStatus(id) ?? 'pending');
      list.append(item);
      // Clear only what was saved: the user may already be typing the next note.
      if (input.value.trim() === text) input.value = '';
      error.textContent = '';
    } catch (e) {
      // Nothing was saved: keep the text so the user loses nothing.
      error.textContent = `Not saved: ${e.message ?? e}`;
    } finally {
      button.disabled = false;
    }
  });
  element.append(root);
  mounted = { root, unsubscribe };
}

export async function unmount() {
  if (!mounted) return;
  mounted.unsubscribe?.();
  mounted.root.remove();
  mounted = null;
}
