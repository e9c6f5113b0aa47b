import { type ReactNode, useState } from 'react'
import { useRouter } from '@/next/navigation'
import { useLogout } from '@/service/use-common'
import { FixtureMenuBody } from './sso-fixture-menu'
import { forgetFixtureUser } from './sso-fixture-session'

type AccountMenuSketchProps = {
  renderTrigger: (open: boolean) => ReactNode
}

// dify-sso-kit test fixture, made up for the codemod tests: an account menu with the 1.16
// logout shape (a trigger prop; the menu body gets handleLogout as a callback).
export default function AccountMenuSketch({ renderTrigger }: AccountMenuSketchProps) {
  const router = useRouter()
  const [open, setOpen] = useState(false)
  const { mutateAsync: logout } = useLogout()

  const handleLogout = async () => {
    await logout()
    forgetFixtureUser()
    router.push('/signin')
  }

  return (
    <div className="sso-fixture-menu" data-open={open} onClick={() => setOpen(!open)}>
      {renderTrigger(open)}
      <FixtureMenuBody onSignOut={handleLogout} />
    </div>
  )
}
