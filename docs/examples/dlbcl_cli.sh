# needs: data dlbcl/Fold-1 as Fold-1

debinn fit --data Fold-1 --trainer ga --hidden 16 --generations 100 --population 20 --out dlbcl.debinn
debinn evaluate --model dlbcl.debinn --data Fold-1
debinn predict --model dlbcl.debinn --data Fold-1/TestF.csv --out predictions.csv
debinn show --model dlbcl.debinn --out dlbcl.png
