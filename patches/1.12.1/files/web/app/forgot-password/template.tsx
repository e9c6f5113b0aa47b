'use client'
// Added by dify-sso-kit (`dify-sso patch`). Do not edit: re-run the patch to update, `--revert` to remove.
// This console signs in with single sign-on only: the page of this route segment is not
// rendered; the browser goes to the sign-in page instead.
import { useEffect } from 'react'
import { basePath } from '@/utils/var'

export default function SsoOnlyTemplate() {
  useEffect(() => {
    window.location.replace(`${basePath}/signin`)
  }, [])
  return (
    <p className="mx-auto mt-8 w-full text-text-tertiary system-sm-regular">
      This console uses single sign-on. Redirecting to the sign-in page…
    </p>
  )
}
