import type { ReactNode } from 'react'

// dify-sso-kit test fixture, made up for the codemod tests: a root layout with the 1.13.1
// shape (no next/font/google any more: nothing for local-fonts to replace).
export default function RootLayoutSketch({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="sso-fixture-body">{children}</body>
    </html>
  )
}
