// dify-sso-kit e2e fixture: the `@/next/*` wrapper modules the 1.13.1+ shape imports.
export { usePathname, useRouter, useSearchParams } from 'next/navigation'
