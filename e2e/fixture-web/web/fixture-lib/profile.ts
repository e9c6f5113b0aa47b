'use client'
// dify-sso-kit e2e fixture: the signed-in account, read through the front door like the console
// does (GET /console/api/account/profile); 401 sends the browser to the sign-in page.
import { useEffect, useState } from 'react'
import { basePath } from '@/utils/var'
import { csrfHeaders } from './csrf'

export type FixtureProfile = { name: string, email: string }

let forgotten = false

export function useFixtureProfile(): FixtureProfile | null {
  const [profile, setProfile] = useState<FixtureProfile | null>(null)
  useEffect(() => {
    let live = true
    fetch(`${basePath}/console/api/account/profile`, { credentials: 'same-origin', headers: csrfHeaders() })
      .then(async (res) => {
        if (res.status === 401) {
          window.location.assign(`${basePath}/signin`)
          return
        }
        if (!res.ok)
          throw new Error(`profile: HTTP ${res.status}`)
        const body = await res.json() as FixtureProfile
        if (live && !forgotten)
          setProfile({ name: body.name, email: body.email })
      })
      .catch(() => {
        if (live)
          setProfile(null)
      })
    return () => {
      live = false
    }
  }, [])
  return profile
}

/** Drops what the page knows about the account (the console resets its user context on logout). */
export function forgetFixtureUser(): void {
  forgotten = true
}
