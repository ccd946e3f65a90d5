// A modal dialog: a native <dialog> opened with showModal(), so the page behind it is inert (no
// clicks, no focus, hidden from assistive technology) while it is open. On open, focus moves to
// the first field (or the dialog itself when it has none); Tab and Shift+Tab cycle inside it;
// Escape closes it; on close, focus goes back to the control that opened it.
import type { ComponentChildren } from 'preact';
import { useId, useLayoutEffect, useRef } from 'preact/hooks';

export interface ModalProps {
  /** The dialog's name, shown as its heading. */
  title: string;
  /** Escape pressed (or the browser closed the dialog): the owner unmounts it. */
  onCancel(): void;
  children?: ComponentChildren;
}

/** What Tab can land on inside a dialog. */
const TABBABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
/** Where focus goes when the dialog opens, before its buttons. */
const FIELDS = 'input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled])';

export function Modal({ title, onCancel, children }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  // Set while the owner unmounts the dialog, so the 'close' event that close() queues is not
  // taken for a close by the browser.
  const closing = useRef(false);

  useLayoutEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return undefined;
    dialog.showModal();
    // showModal() would pick the first focusable element, a Cancel button when there is no
    // field; naming the target here makes it the first field, or else the dialog (read out by
    // its title).
    (dialog.querySelector<HTMLElement>('[autofocus]') ?? dialog.querySelector<HTMLElement>(FIELDS) ?? dialog).focus();
    return () => {
      closing.current = true;
      // Closing a modal dialog that holds the focus gives it back to the element that had it
      // before showModal() (the HTML standard's "previously focused element"): the opener.
      dialog.close();
    };
  }, []); // once per dialog

  const onKeyDown = (ev: KeyboardEvent) => {
    if (ev.key !== 'Tab') return;
    const dialog = ref.current;
    if (dialog === null) return;
    const tabbable = [...dialog.querySelectorAll<HTMLElement>(TABBABLE)].filter((el) => el.getClientRects().length > 0);
    const first = tabbable[0];
    const last = tabbable.at(-1);
    if (first === undefined || last === undefined) {
      ev.preventDefault();
      return;
    }
    // The page behind is inert, but past the last element the browser would move focus to its
    // own UI (or nowhere, headless): wrap instead, so focus never leaves the dialog.
    const active = document.activeElement;
    if (ev.shiftKey && (active === first || active === dialog)) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && (active === last || active === dialog)) {
      ev.preventDefault();
      first.focus();
    }
  };

  return (
    <dialog
      ref={ref} class="dialog" aria-labelledby={titleId} tabIndex={-1} onKeyDown={onKeyDown}
      onCancel={(ev) => {
        // Escape: the owner unmounts the dialog, which closes it.
        ev.preventDefault();
        onCancel();
      }}
      onClose={() => {
        // Chrome closes a dialog without a 'cancel' event on a second Escape with no user
        // activation in between; the owner must still forget it.
        if (!closing.current) onCancel();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
