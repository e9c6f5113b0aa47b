import type { Viewport } from 'next'
import { ThemeProvider } from 'next-themes'
import localFont from 'next/font/local'
import { cn } from '@/utils/classnames'
import './styles/globals.css'

// Minimal reproduction of the shape of the root layout (not Dify's source).
export const viewport: Viewport = {
  width: 'device-width',
}

const instrumentSerif = localFont({
  src: [
    { path: './fonts/dify-sso/instrument-serif-latin-400-normal.woff2', weight: '400', style: 'normal' },
    { path: './fonts/dify-sso/instrument-serif-latin-400-italic.woff2', weight: '400', style: 'italic' },
  ],
  variable: '--font-instrument-serif',
  display: 'swap',
})

const LocaleLayout = async ({
  children,
}: {
  children: React.ReactNode
}) => {
  return (
    <html lang="en" className={cn('h-full', instrumentSerif.variable)} suppressHydrationWarning>
      <body className="color-scheme h-full select-auto">
        <ThemeProvider attribute="data-theme">{children}</ThemeProvider>
      </body>
    </html>
  )
}

export default LocaleLayout
