() => {
  // Names a screen reader announces, where Gradio's markup has none of its own.
  const set = (selector, attributes) => {
    const element = document.querySelector(selector);
    if (!element) return;
    for (const [name, value] of Object.entries(attributes)) {
      if (element.getAttribute(name) !== value) element.setAttribute(name, value);
    }
  };
  const name = () => {
    const legend = document.querySelector('#audience-radio [data-testid="block-info"]');
    if (legend) legend.id = 'audience-legend';
    const info = document.querySelector('#audience-radio .info-text');
    if (info) info.id = 'audience-info';
    set('#audience-radio', {
      role: 'radiogroup', 'aria-labelledby': 'audience-legend', 'aria-describedby': 'audience-info',
    });
    set('#chatbot [role="log"]', {'aria-label': 'Conversation: your questions and the answers'});
    set('#suggestions', {role: 'group', 'aria-label': 'Suggested questions'});
  };
  // Short messages for the live region (copy, download), until the next answer replaces them.
  window.alsAnnounce = (text) => {
    const region = document.querySelector('#answer-status');
    if (!region) return;
    const box = region.querySelector('.prose') || region;
    box.textContent = text;
  };
  name();
  new MutationObserver(name).observe(document.body, {childList: true, subtree: true});
}
