// dify-sso-kit e2e fixture: Dify's double-submit CSRF header, read from the (readable) csrf cookie.
export function csrfHeaders(): Record<string, string> {
  if (typeof document === 'undefined')
    return {}
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name && /csrf_token$/.test(name))
      return { 'x-csrf-token': decodeURIComponent(rest.join('=')) }
  }
  return {}
}
