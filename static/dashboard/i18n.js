// Translations of the pages' own JS strings. Django's JavaScriptCatalog (the URL "javascript-catalog", a script of
// this origin that the page loads before its modules) defines globalThis.django; without it the English text shows.
// `manage.py makemessages -d djangojs` collects the gettext("...") calls into locale/*/LC_MESSAGES/djangojs.po.

/** The translation of `text` in the page's language. */
export function gettext(text) {
  return globalThis.django?.gettext ? globalThis.django.gettext(text) : text;
}

/** `format` with each %(name)s replaced by values[name]. */
export function interpolate(format, values) {
  return format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
}
