python -c "from sklearn.datasets import load_breast_cancer as l; d = l(as_frame=True).frame; d.insert(0, 'Key', range(len(d))); d.iloc[::5].to_csv('bc_test.csv', index=False); d.drop(d.index[::5]).to_csv('bc_train.csv', index=False)"
debinn fit --data bc_train.csv --trainer gd --hidden 16 --out bc.debinn
debinn evaluate --model bc.debinn --data bc_test.csv
debinn predict --model bc.debinn --data bc_test.csv --out bc_predictions.csv
head -3 bc_predictions.csv
