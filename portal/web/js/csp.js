// The page's CSP allows <style> only with the nonce the portal put in
// <meta name="csp-nonce">. xterm.js makes <style> elements of its own, so
// every style element created here gets the nonce before it is inserted.
// Import this module first.
const meta = document.querySelector('meta[name="csp-nonce"]');
export const nonce = meta ? meta.content : '';

const createElement = Document.prototype.createElement;
Document.prototype.createElement = function (tag, options) {
  const el = createElement.call(this, tag, options);
  if (nonce && String(tag).toLowerCase() === 'style')
    el.setAttribute('nonce', nonce);
  return el;
};
