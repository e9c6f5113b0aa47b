// dify-sso-kit e2e fixture: the stock e-mail code form (removed by the codemods).
export default function CodeForm() {
  return (
    <form action="/console/api/email-code-login" method="post">
      <label>E-mail for a code <input type="email" name="email" /></label>
      <button type="submit">Send code</button>
    </form>
  )
}
