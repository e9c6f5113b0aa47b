// dify-sso-kit e2e fixture: stands in for the UI kit's toast (the stock sign-in form echoes ?message=).
export const toast = {
  error(message: string): void {
    if (typeof document === 'undefined')
      return
    const box = document.createElement('p')
    box.setAttribute('role', 'status')
    box.textContent = message
    document.body.appendChild(box)
  },
}
