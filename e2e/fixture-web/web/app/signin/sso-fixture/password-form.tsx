// dify-sso-kit e2e fixture: the stock password form (removed by the codemods).
export default function PasswordForm() {
  return (
    <form action="/console/api/login" method="post">
      <label>E-mail <input type="email" name="email" /></label>
      <label>Password <input type="password" name="password" /></label>
      <button type="submit">Sign in with password</button>
    </form>
  )
}
