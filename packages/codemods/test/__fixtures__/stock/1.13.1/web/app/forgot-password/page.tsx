'use client'
// Minimal reproduction of a local-account page (not Dify's source).
export default function Page() {
  return (
    <form>
      <input type="email" name="email" />
    </form>
  )
}
