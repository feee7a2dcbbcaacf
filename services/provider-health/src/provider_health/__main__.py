from provider_health.main import main

main()
