module mywire.example/mywire

go 1.19
