// dify-sso-kit e2e fixture: the stock logout call the codemods remove (POST /console/api/logout).
import { csrfHeaders } from '@/fixture-lib/csrf'

export function useLogout() {
  return {
    mutateAsync: async () => {
      await fetch('/console/api/logout', { method: 'POST', credentials: 'same-origin', headers: csrfHeaders() })
    },
  }
}
