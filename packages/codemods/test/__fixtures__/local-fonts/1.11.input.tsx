import type { Viewport } from 'next'
import { ThemeProvider } from 'next-themes'
import { Instrument_Serif } from 'next/font/google'
import { cn } from '@/utils/classnames'
import './styles/globals.css'

// Minimal reproduction of the shape of the root layout (not Dify's source).
export const viewport: Viewport = {
  width: 'device-width',
}

const instrumentSerif = Instrument_Serif({
  weight: ['400'],
  style: ['normal', 'italic'],
  subsets: ['latin'],
  variable: '--font-instrument-serif',
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
